// micro sidecar: the HTTP API for the parent app, the inbound listener and the registrar.
#include "micro/sidecar.h"

#include <cstdlib>

#include "api/gateway_detail.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/service.h"
#include "sidecar/blocking.h"
#include "sidecar/broker_socket.h"
#include "sidecar/inbound.h"
#include "sidecar/registration.h"
#include "util/advertise.h"

namespace micro::sidecar {
namespace {

using http::ServerReply;
using http::ServerRequest;
using sidecar_detail::OffLoop;

struct SidecarState {
  SidecarOptions options;
  SidecarParts parts;
  std::shared_ptr<util::WorkerPool> pool;
  std::shared_ptr<sidecar_detail::AppRegistrar> registrar;
  std::shared_ptr<api_detail::GatewayState> gateway;
  std::unique_ptr<http::Client> app_client;
  sidecar_detail::InboundOptions inbound;
};

ServerReply Json(std::string body) {
  ServerReply reply;
  reply.header.emplace_back("Content-Type", "application/json");
  reply.body = std::move(body);
  return reply;
}

std::string ServicesJson(const std::vector<registry::Service>& services) {
  std::string out = "[";
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (i > 0) out += ",";
    out += registry::ToJson(services[i]);
  }
  return out + "]";
}

asio::awaitable<ServerReply> ServeRegistry(std::shared_ptr<SidecarState> state,
                                           ServerRequest& request) {
  const std::string id(kErrorId);
  auto registry = state->parts.registry;
  auto registrar = state->registrar;
  const std::string name = http::QueryParam(request.target, "service");
  using Services = Result<std::vector<registry::Service>>;
  if (request.method == "GET") {
    std::function<Services()> read = [registry, name] {
      return name.empty() ? registry->ListServices() : registry->GetService(name);
    };
    auto services = co_await OffLoop<Services>(*state->pool, std::move(read));
    if (services && services->empty() && !name.empty()) {
      services = registry::ErrNotFound();  // mdns answers an unknown service with no services
    }
    if (!services) {
      if (registry::IsNotFound(services.error())) {
        co_return api_detail::ErrorReply(errors::NotFound(id, "Service not found"));
      }
      co_return api_detail::ErrorReply(services.error());
    }
    co_return Json(ServicesJson(*services));
  }
  if (request.method == "POST") {
    auto registration = sidecar_detail::ParseRegistration(request.body);
    if (!registration) co_return api_detail::ErrorReply(registration.error());
    std::optional<Duration> ttl;
    if (std::string text = http::QueryParam(request.target, "ttl"); !text.empty()) {
      auto parsed = ParseGoDuration(text);
      if (!parsed || *parsed <= Duration::zero()) {
        co_return api_detail::ErrorReply(errors::BadRequest(
            id, "registration: ttl \"{}\" is not a positive Go duration such as 30s", text));
      }
      ttl = *parsed;
    }
    std::function<Status()> put = [registrar, r = std::move(*registration), ttl]() mutable {
      return registrar->Put(std::move(r), ttl);
    };
    Status s = co_await OffLoop<Status>(*state->pool, std::move(put));
    if (!s) co_return api_detail::ErrorReply(s.error());
    co_return ServerReply{};
  }
  if (request.method == "DELETE") {
    std::string target = name;
    if (target.empty()) {
      auto registration = sidecar_detail::ParseRegistration(request.body);
      if (!registration) co_return api_detail::ErrorReply(registration.error());
      target = registration->service.name;
    }
    std::function<Status()> remove = [registrar, target] { return registrar->Remove(target); };
    Status s = co_await OffLoop<Status>(*state->pool, std::move(remove));
    if (!s) co_return api_detail::ErrorReply(s.error());
    co_return ServerReply{};
  }
  co_return api_detail::ErrorReply(errors::MethodNotAllowed(
      id, "{} /registry: use GET, POST (register) or DELETE (deregister)", request.method));
}

asio::awaitable<ServerReply> ServeHealth(std::shared_ptr<SidecarState> state) {
  auto registrar = state->registrar;
  std::function<sidecar_detail::HealthResult()> check = [registrar] { return registrar->Check(); };
  auto health = co_await OffLoop<sidecar_detail::HealthResult>(*state->pool, std::move(check));
  ServerReply reply;
  if (!health.healthy) {
    reply.status =
        health.status >= 100 && health.status <= 599 && health.status != 200 ? health.status : 500;
    reply.header.emplace_back("Content-Type", "text/plain; charset=utf-8");
    reply.body = health.why;
  }
  co_return reply;
}

asio::awaitable<ServerReply> Route(std::shared_ptr<SidecarState> state, ServerRequest& request) {
  if (request.method != "OPTIONS") {
    if (request.path == "/registry") co_return co_await ServeRegistry(state, request);
    if (request.path == "/health") co_return co_await ServeHealth(state);
    if (request.path == "/broker") {
      sidecar_detail::BrokerSocketParts broker{.broker = state->parts.broker,
                                               .pool = state->pool,
                                               .max_frame_bytes = state->options.max_frame_bytes};
      co_return co_await sidecar_detail::ServeBroker(std::move(broker), request);
    }
  }
  co_return co_await api_detail::ServeGateway(state->gateway, request);  // /rpc and the rest
}

class SidecarImpl final : public Sidecar {
 public:
  SidecarImpl(std::shared_ptr<SidecarState> state, std::shared_ptr<http::Server> server,
              std::shared_ptr<Listener> listener)
      : state_(std::move(state)), server_(std::move(server)), listener_(std::move(listener)) {}
  ~SidecarImpl() override { Close(); }
  std::string Addr() const override { return server_->Addr(); }
  std::string InboundAddr() const override { return listener_->Addr(); }
  void Close() override {
    state_->registrar->Stop();  // deregisters first: no new calls are routed here
    listener_->Close();
    server_->Close();
  }

 private:
  std::shared_ptr<SidecarState> state_;
  std::shared_ptr<http::Server> server_;
  std::shared_ptr<Listener> listener_;
};

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

}  // namespace

SidecarParts PartsOf(Service& service) {
  SidecarParts parts;
  parts.client = service.Client();
  parts.registry = service.Registry();
  parts.transport = service.Transport();
  parts.broker = service.Broker();
  parts.executor = parts.client->executor();
  return parts;
}

SidecarOptions OptionsFromEnv() {
  SidecarOptions o;
  if (auto v = Env("MICRO_SIDECAR_ADDRESS")) o.address = *v;
  if (auto v = Env("MICRO_SIDECAR_APP_NAME")) o.app_name = *v;
  if (auto v = Env("MICRO_SIDECAR_APP_ADDRESS")) o.app_address = *v;
  if (auto v = Env("MICRO_SIDECAR_HEALTHCHECK_URL")) o.healthcheck_url = *v;
  if (auto v = Env("MICRO_SIDECAR_HANDLER")) o.handler = *v;
  if (const char* ns = std::getenv("MICRO_SIDECAR_NAMESPACE")) o.ns = ns;  // "" is meaningful
  return o;
}

Result<std::unique_ptr<Sidecar>> Sidecar::Start(SidecarOptions options, SidecarParts parts) {
  const std::string id(kErrorId);
  if (!parts.client || !parts.registry || !parts.transport || !parts.broker) {
    return errors::BadRequest(id, "the sidecar needs a client, registry, transport and broker");
  }
  if (options.health_interval <= Duration::zero()) {
    return errors::BadRequest(id, "the health interval must be positive");
  }
  if (!options.app_name.empty() && options.app_address.empty()) {
    return errors::BadRequest(id, "--app_name needs --app_address (the app's host:port)");
  }
  std::optional<sidecar_detail::HealthUrl> health;
  if (!options.healthcheck_url.empty()) {
    auto parsed = sidecar_detail::ParseHealthUrl(options.healthcheck_url);
    if (!parsed) return std::move(parsed).error();
    health = std::move(*parsed);
  }
  if (!parts.executor) parts.executor = parts.client->executor();
  if (Status s = parts.broker->Connect(); !s) return std::move(s).error();

  api::GatewayOptions gateway_options{.address = options.address,
                                      .handler = options.handler,
                                      .ns = options.ns,
                                      .enable_rpc = true,
                                      .enable_cors = true,
                                      .max_body_bytes = options.max_body_bytes,
                                      .read_timeout = options.read_timeout};
  api::GatewayParts gateway_parts{
      .client = parts.client, .registry = parts.registry, .executor = parts.executor};
  auto gateway = api_detail::NewGatewayState(gateway_options, std::move(gateway_parts));
  if (!gateway) return std::move(gateway).error();

  auto state = std::make_shared<SidecarState>();
  state->options = options;
  state->parts = parts;
  state->gateway = std::move(*gateway);
  state->pool = std::make_shared<util::WorkerPool>(8, "micro-car-pool");
  state->app_client = std::make_unique<http::Client>(
      http::ClientOptions{.request_timeout = options.app_timeout, .executor = parts.executor});

  auto listener = parts.transport->Listen(options.inbound_address);
  if (!listener) return std::move(listener).error();

  sidecar_detail::AppRegistrar::Options reg;
  reg.node_address = util::AdvertiseAddress((*listener)->Addr(), options.advertise);
  reg.node_metadata = {{"protocol", "mucp"},
                       {"server", "sidecar"},
                       {"sidecar", "true"},
                       {"transport", parts.transport->String()},
                       {"broker", parts.broker->String()},
                       {"registry", parts.registry->String()}};
  reg.app_address = options.app_address;
  reg.health = health;
  reg.interval = options.health_interval;
  reg.ttl = options.register_ttl;
  state->registrar = std::make_shared<sidecar_detail::AppRegistrar>(parts.registry, reg);
  auto registrar = state->registrar;
  state->inbound = {.app_name = options.app_name.empty() ? id : options.app_name,
                    .app_address = [registrar] { return registrar->AppAddress(); },
                    .app_timeout = options.app_timeout};

  (*listener)->Start([state](std::shared_ptr<Socket> socket) -> asio::awaitable<void> {
    co_await sidecar_detail::ServeInbound(std::move(socket), state->inbound, *state->app_client);
  });

  auto handler = [state](ServerRequest& request) -> asio::awaitable<ServerReply> {
    co_return co_await Route(state, request);
  };
  auto server = http::Server::Start(parts.executor, api_detail::ServerOptionsFor(gateway_options),
                                    std::move(handler));
  if (!server) {
    (*listener)->Close();
    return std::move(server).error();
  }
  if (!options.app_name.empty()) {
    sidecar_detail::Registration app;
    app.service.name = options.app_name;
    app.service.version = options.app_version;
    app.app_address = options.app_address;
    if (Status s = state->registrar->Put(std::move(app), std::nullopt); !s) {
      log::Warn("sidecar: registering {}: {} (retried every {} s)", options.app_name, s.error(),
                std::chrono::duration_cast<std::chrono::seconds>(options.health_interval).count());
    }
  }
  state->registrar->Start();
  log::Info("micro sidecar on http://{}, mesh calls on {} go to the app at {}", (*server)->Addr(),
            reg.node_address,
            options.app_address.empty() ? "(not yet known)" : options.app_address);
  return std::unique_ptr<Sidecar>(
      new SidecarImpl(std::move(state), std::move(*server), std::move(*listener)));
}

}  // namespace micro::sidecar
