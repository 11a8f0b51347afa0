// micro web: the dashboard's routes (page, registry JSON, events, /rpc, the web proxy).
#include <cstdlib>

#include "api/gateway_detail.h"
#include "api/request_codec.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/service.h"
#include "micro/web.h"
#include "web/assets.h"
#include "web/event_stream.h"
#include "web/registry_view.h"
#include "web/service_monitor.h"

namespace micro::web {
namespace {

using http::ServerReply;
using http::ServerRequest;

// The page may load its own files and talk to its own origin, nothing else: even a string
// that got into the page as HTML could not run.
constexpr std::string_view kPageSecurity =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct DashboardState {
  DashboardOptions options;
  std::shared_ptr<web_detail::ServiceMonitor> monitor;
  std::shared_ptr<api_detail::GatewayState> gateway;  // /rpc and the proxy
};

ServerReply WebError(const Error& error) { return api_detail::ErrorReply(error); }

ServerReply Json(std::string body) {
  ServerReply reply;
  reply.header.emplace_back("Content-Type", "application/json");
  reply.header.emplace_back("Cache-Control", "no-cache");
  reply.body = std::move(body);
  return reply;
}

ServerReply ServeAsset(const ServerRequest& request, const web_detail::Asset& asset) {
  ServerReply reply;
  if (request.method != "GET" && request.method != "HEAD") {
    return WebError(errors::MethodNotAllowed(std::string(kErrorId), "{} {}: use GET",
                                             request.method, request.path));
  }
  reply.header.emplace_back("Content-Type", std::string(web_detail::AssetContentType(asset.path)));
  reply.header.emplace_back("Cache-Control", "no-cache");
  reply.header.emplace_back("X-Content-Type-Options", "nosniff");
  reply.header.emplace_back("Referrer-Policy", "no-referrer");
  reply.header.emplace_back("Content-Security-Policy", std::string(kPageSecurity));
  if (request.method == "GET") reply.body = std::string(asset.data);
  return reply;
}

ServerReply ServeRegistry(const DashboardState& state, const ServerRequest& request) {
  auto view = state.monitor->View();
  const std::string name = http::QueryParam(request.target, "service");
  if (name.empty()) return Json(view->registry_json);
  std::string one = web_detail::ServiceJson(*view, name);
  if (one.empty()) {
    return WebError(errors::NotFound(std::string(kErrorId), "service {} not found", name));
  }
  return Json(std::move(one));
}

asio::awaitable<ServerReply> Route(std::shared_ptr<DashboardState> state, ServerRequest& request) {
  const std::string& path = request.path;
  if (path == "/" || path == "/index.html") {
    co_return ServeAsset(request, *web_detail::FindAsset("/index.html"));
  }
  if (path == "/favicon.ico") co_return ServeAsset(request, *web_detail::FindAsset("/favicon.svg"));
  if (path.rfind("/assets/", 0) == 0) {
    const auto* asset = web_detail::FindAsset(std::string_view(path).substr(7));
    if (!asset) co_return WebError(errors::NotFound(std::string(kErrorId), "no such file"));
    co_return ServeAsset(request, *asset);
  }
  if (path == "/registry") co_return ServeRegistry(*state, request);
  if (path == "/events") {
    ServerReply reply;
    reply.take_over = [monitor = state->monitor, keepalive = state->options.poll_interval](
                          http::ByteStream& raw) -> asio::awaitable<void> {
      co_await web_detail::ServeEvents(raw, monitor, keepalive);
    };
    co_return reply;
  }
  if (path == "/rpc") co_return co_await api_detail::ServeGateway(state->gateway, request);

  // /{name}/... -> the web service <namespace>.<name>.
  auto segments = api_detail::CleanPathSegments(path);
  if (segments.empty() || !web_detail::IsProxySegment(segments[0])) {
    co_return WebError(errors::NotFound(std::string(kErrorId), "{} not found", path));
  }
  std::string base = "/" + segments[0];
  if (request.target.rfind(base, 0) != 0) {  // an encoded first segment: not ours to guess
    co_return WebError(errors::NotFound(std::string(kErrorId), "{} not found", path));
  }
  std::string service = api::WithNamespace(state->options.ns, segments[0]);
  co_return co_await api_detail::ServeProxy(state->gateway, request, std::move(service), true,
                                            std::move(base));
}

class DashboardImpl final : public Dashboard {
 public:
  DashboardImpl(std::shared_ptr<DashboardState> state, std::shared_ptr<http::Server> server)
      : state_(std::move(state)), server_(std::move(server)) {}
  ~DashboardImpl() override { Close(); }
  std::string Addr() const override { return server_->Addr(); }
  void Close() override {
    state_->monitor->Stop();
    server_->Close();
  }

 private:
  std::shared_ptr<DashboardState> state_;
  std::shared_ptr<http::Server> server_;
};

}  // namespace

DashboardParts PartsOf(Service& service) {
  DashboardParts parts;
  parts.client = service.Client();
  parts.registry = service.Registry();
  parts.cache = service.Cache();
  parts.executor = parts.client->executor();
  return parts;
}

DashboardOptions OptionsFromEnv() {
  DashboardOptions o;
  if (const char* v = std::getenv("MICRO_WEB_ADDRESS"); v && *v) o.address = v;
  if (const char* v = std::getenv("MICRO_WEB_NAMESPACE")) o.ns = v;  // "" is meaningful
  return o;
}

Result<std::unique_ptr<Dashboard>> Dashboard::Start(DashboardOptions options,
                                                    DashboardParts parts) {
  if (!parts.client || !parts.registry) {
    return errors::BadRequest(std::string(kErrorId), "the dashboard needs a client and a registry");
  }
  if (options.poll_interval <= Duration::zero()) {
    return errors::BadRequest(std::string(kErrorId), "the poll interval must be positive");
  }
  api::GatewayOptions gateway_options{.address = options.address,
                                      .handler = "web",
                                      .ns = options.ns,
                                      .enable_rpc = true,
                                      .enable_cors = false,
                                      .max_body_bytes = options.max_body_bytes,
                                      .read_timeout = options.read_timeout};
  api::GatewayParts gateway_parts{
      .client = parts.client,
      .registry = parts.cache ? std::shared_ptr<Registry>(parts.cache) : parts.registry,
      .executor = parts.executor};
  auto gateway = api_detail::NewGatewayState(gateway_options, std::move(gateway_parts));
  if (!gateway) return std::move(gateway).error();

  auto state = std::make_shared<DashboardState>();
  state->options = std::move(options);
  state->gateway = std::move(*gateway);
  state->monitor = std::make_shared<web_detail::ServiceMonitor>(parts.registry, state->options.ns,
                                                                state->options.poll_interval);
  state->monitor->Start();

  auto handler = [state](ServerRequest& request) -> asio::awaitable<ServerReply> {
    co_return co_await Route(state, request);
  };
  auto server = http::Server::Start(state->gateway->parts.executor,
                                    api_detail::ServerOptionsFor(state->gateway->options),
                                    std::move(handler));
  if (!server) {
    state->monitor->Stop();
    return std::move(server).error();
  }
  log::Info("micro web dashboard on http://{} (web services: {}.*)", (*server)->Addr(),
            state->options.ns);
  return std::unique_ptr<Dashboard>(new DashboardImpl(std::move(state), std::move(*server)));
}

}  // namespace micro::web

namespace micro::web_detail {

const Asset* FindAsset(std::string_view path) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (kAssets[i].path == path) return &kAssets[i];
  }
  return nullptr;
}

std::string_view AssetContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace micro::web_detail
