#include "micro/service.h"

#include <fmt/ranges.h>

#include <asio/signal_set.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "micro/logger.h"
#include "micro/observability.h"
#include "micro/resilience.h"
#include "service/observe.h"

namespace micro {
namespace {

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    auto part = s.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Result<int64_t> ParseInt(std::string_view flag, std::string_view v) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return errors::BadRequest(error_ids::kService, "--{}: \"{}\" is not an integer", flag, v);
  }
  return n;
}

Result<bool> ParseBool(std::string_view flag, std::string_view v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return errors::BadRequest(error_ids::kService, "--{}: \"{}\" is not a bool", flag, v);
}

// go-micro v6's --profile bundles: plugin names (and the nats address) set before the other
// flags, which then win.
Status ApplyProfile(ServiceOptions& o, std::string_view profile,
                    const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  if (profile.empty()) return {};
  if (profile == "local") {
    o.registry = "mdns";
    o.broker = "http";
    o.transport = "http";
    return {};
  }
  if (profile == "nats") {
    auto addr = getenv("MICRO_NATS_ADDRESS");
    const std::vector<std::string> addrs{addr && !addr->empty() ? *addr : "nats://127.0.0.1:4222"};
    o.registry = o.broker = o.transport = "nats";
    o.registry_address = o.broker_address = o.transport_address = addrs;
    return {};
  }
  return errors::BadRequest(error_ids::kService, "--profile: unknown profile \"{}\" (local, nats)",
                            profile);
}

// One setting from a flag or its MICRO_* variable.
Status Apply(ServiceOptions& o, std::string_view name, const std::string& v) {
  auto seconds = [&](Duration& out) -> Status {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    out = std::chrono::seconds(*n);
    return {};
  };
  auto duration = [&](Duration& out) -> Status {
    auto d = ParseGoDuration(v);
    if (!d) return d.status();
    out = *d;
    return {};
  };
  if (name == "registry") {
    o.registry = v;
  } else if (name == "registry_address") {
    o.registry_address = SplitComma(v);
  } else if (name == "transport") {
    o.transport = v;
  } else if (name == "transport_address") {
    o.transport_address = SplitComma(v);
  } else if (name == "selector") {
    o.selector = v;
  } else if (name == "broker") {
    o.broker = v;
  } else if (name == "broker_address") {
    o.broker_address = SplitComma(v);
  } else if (name == "server_name") {
    o.name = v;
  } else if (name == "server_version") {
    o.version = v;
  } else if (name == "server_id") {
    o.id = v;
  } else if (name == "server_address") {
    o.address = v;
  } else if (name == "server_advertise") {
    o.advertise = v;
  } else if (name == "server_metadata") {
    for (const auto& kv : SplitComma(v)) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) {
        return errors::BadRequest(error_ids::kService, "--server_metadata: \"{}\" is not k=v", kv);
      }
      o.metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  } else if (name == "register_ttl") {
    return seconds(o.register_ttl);
  } else if (name == "register_interval") {
    return seconds(o.register_interval);
  } else if (name == "client_retries") {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    o.client.retries = static_cast<int>(*n);
  } else if (name == "client_request_timeout") {
    return duration(o.client.request_timeout);
  } else if (name == "client_pool_size") {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    if (*n > 0) o.client.pool_size = static_cast<std::size_t>(*n);
  } else if (name == "client_pool_ttl") {
    return duration(o.client.pool_ttl);
  } else if (name == "server_max_in_flight") {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    o.max_in_flight = *n > 0 ? static_cast<std::size_t>(*n) : 0;
  } else if (name == "server_rate_limit" || name == "client_rate_limit") {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    (name == "server_rate_limit" ? o.server_rate_limit : o.client_rate_limit) =
        static_cast<double>(std::max<int64_t>(0, *n));
  } else if (name == "threads") {
    auto n = ParseInt(name, v);
    if (!n) return n.status();
    if (*n < 0 || *n > 1024) {
      return errors::BadRequest(error_ids::kService, "--threads: {} is not 0 (one per CPU) to 1024",
                                *n);
    }
    o.threads = static_cast<std::size_t>(*n);
  } else if (name == "server_inline_handlers") {
    if (v != "true" && v != "false" && v != "1" && v != "0") {
      return errors::BadRequest(error_ids::kService,
                                "--server_inline_handlers: \"{}\" is not a bool", v);
    }
    o.inline_handlers = v == "true" || v == "1";
  } else if (name == "client_breaker") {
    if (v != "true" && v != "false" && v != "1" && v != "0") {
      return errors::BadRequest(error_ids::kService, "--client_breaker: \"{}\" is not a bool", v);
    }
    o.client_breaker = v == "true" || v == "1";
  } else if (name == "client") {
    o.client_plugin = v;
  } else if (name == "server") {
    o.server_plugin = v;
  } else if (name == "profile") {
    o.profile = v;  // applied by ApplyProfile, before the other flags
  } else if (name == "transport_secure" || name == "tls_insecure") {
    auto b = ParseBool(name, v);
    if (!b) return b.status();
    (name == "transport_secure" ? o.transport_secure : o.tls.insecure_skip_verify) = *b;
  } else if (name == "tls_cert_file") {
    o.tls.cert_file = v;
  } else if (name == "tls_key_file") {
    o.tls.key_file = v;
  } else if (name == "tls_ca_file") {
    o.tls.ca_file = v;
  } else if (service_detail::IsObservabilityFlag(name)) {
    return service_detail::ApplyObservabilityFlag(o, name, v);
  } else {
    return errors::BadRequest(error_ids::kService, "unknown flag --{}", name);
  }
  return {};
}

constexpr const char* kFlags[] = {"registry",
                                  "registry_address",
                                  "transport",
                                  "transport_address",
                                  "selector",
                                  "broker",
                                  "broker_address",
                                  "server_name",
                                  "server_version",
                                  "server_id",
                                  "server_address",
                                  "server_advertise",
                                  "server_metadata",
                                  "register_ttl",
                                  "register_interval",
                                  "client",
                                  "server",
                                  "profile",
                                  "transport_secure",
                                  "tls_cert_file",
                                  "tls_key_file",
                                  "tls_ca_file",
                                  "tls_insecure",
                                  "client_retries",
                                  "client_request_timeout",
                                  "client_pool_size",
                                  "client_pool_ttl",
                                  "client_rate_limit",
                                  "client_breaker",
                                  "server_max_in_flight",
                                  "server_rate_limit",
                                  "server_inline_handlers",
                                  "threads",
                                  "debug_handler",
                                  "debug_address",
                                  "metrics",
                                  "tracing",
                                  "tracer_address",
                                  "tracer_sample",
                                  "log_format"};

bool IsFlag(std::string_view name) {
  for (const char* f : kFlags) {
    if (name == f) return true;
  }
  return false;
}

std::string EnvName(std::string_view flag) {
  std::string env = "MICRO_";
  for (char c : flag) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

}  // namespace

struct Service::Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  void Signal() {
    {
      std::lock_guard l(mu);
      done = true;
    }
    cv.notify_all();
  }
};

Service::Service(ServiceOptions options)
    : options_(std::move(options)), waiter_(std::make_shared<Waiter>()) {}

Service::~Service() {
  if (admin_) admin_->Close();
  if (server_) (void)server_->Stop();
  if (broker_) (void)broker_->Disconnect();
  // Everything below runs on runtime_'s I/O threads (the broker too): it goes first.
  server_.reset();
  client_.reset();
  selector_.reset();
  broker_.reset();
  transport_.reset();
  cache_.reset();
  registry_.reset();
  runtime_.reset();
  admin_.reset();
  observer_.reset();
}

std::string Service::Usage() {
  std::string out = "Flags (each also read from MICRO_<FLAG>; flags win):\n";
  for (const char* f : kFlags) out += fmt::format("  --{:<24} ${}\n", f, EnvName(f));
  out += "  MICRO_PROXY=host:port|name    send every call to this address or service\n";
  out += "  MICRO_LOG_LEVEL               trace|debug|info|warn|error|fatal\n";
  out += fmt::format("Registries: {}\n", fmt::join(Registries().Names(), ", "));
  out += fmt::format("Transports: {}\n", fmt::join(Transports().Names(), ", "));
  out += fmt::format("Selectors:  {}\n", fmt::join(Selectors().Names(), ", "));
  out += fmt::format("Brokers:    {}\n", fmt::join(Brokers().Names(), ", "));
  return out;
}

std::vector<std::string> Service::FlagNames() { return {std::begin(kFlags), std::end(kFlags)}; }

Status Service::Init(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "-h" || a == "--help" || a == "-help") {
      std::fputs(Usage().c_str(), stdout);
      std::exit(0);
    }
  }
  return Init(args, [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

Status Service::Init(const std::vector<std::string>& args,
                     const std::function<std::optional<std::string>(const std::string&)>& getenv) {
  // The profile first (flag over variable): every other flag and variable wins over it.
  std::string profile = options_.profile;
  if (auto v = getenv("MICRO_PROFILE"); v && !v->empty()) profile = *v;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--profile=", 0) == 0) profile = args[i].substr(10);
    if (args[i] == "--profile" && i + 1 < args.size()) profile = args[i + 1];
  }
  if (Status s = ApplyProfile(options_, profile, getenv); !s) return s;
  options_.profile = profile;
  for (const char* f : kFlags) {
    if (auto v = getenv(EnvName(f)); v && !v->empty()) {
      if (Status s = Apply(options_, f, *v); !s) return s;
    }
  }
  // go-micro's MICRO_PROXY: an address ("host:port") or a service name ("service" stands for
  // go.micro.proxy).
  if (auto proxy = getenv("MICRO_PROXY"); proxy && !proxy->empty()) {
    if (proxy->find(':') != std::string::npos) {
      options_.client.proxy = *proxy;
    } else {
      options_.client.proxy_service = *proxy == "service" ? "go.micro.proxy" : *proxy;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.rfind("--", 0) != 0) continue;
    a.remove_prefix(2);
    std::string name, value;
    if (const auto eq = a.find('='); eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else {
      name = a;
      if (!IsFlag(name)) continue;
      if (i + 1 >= args.size()) {
        return errors::BadRequest(error_ids::kService, "flag --{} needs a value", name);
      }
      value = args[++i];
    }
    if (!IsFlag(name)) continue;  // the program's own flag
    if (Status s = Apply(options_, name, value); !s) return s;
  }
  return Build();
}

Status Service::Build() {
  if (server_) return {};
  if (options_.client_plugin != "mucp" && !options_.client_plugin.empty()) {
    return errors::BadRequest(error_ids::kService, "Client {} not found (known: mucp)",
                              options_.client_plugin);
  }
  if (options_.server_plugin != "mucp" && !options_.server_plugin.empty()) {
    return errors::BadRequest(error_ids::kService, "Server {} not found (known: mucp)",
                              options_.server_plugin);
  }
  if (!runtime_) runtime_ = std::make_unique<Runtime>(options_.threads);
  if (options_.registry_impl) {
    registry_ = options_.registry_impl;
  } else {
    auto r = Registries().Create(options_.registry, {.addrs = options_.registry_address});
    if (!r) return std::move(r).error();
    registry_ = *r;
  }
  // One cache (one watch, one lookup per service in flight) for everything that looks
  // services up: the client's selector and the broker. The server registers through
  // registry_ directly.
  auto observer = service_detail::MakeObserver(options_);
  if (!observer) return std::move(observer).error();
  observer_ = *observer;
  // The server registers (readiness follows) and the cache looks up through an observed
  // registry; Registry() still hands out the registry itself.
  auto observed_registry = ObserveRegistry(registry_, observer_);
  auto cache = NewCache(observed_registry);
  if (!cache) return std::move(cache).error();
  cache_ = ObserveCache(*std::move(cache), observer_);
  if (options_.transport_impl) {
    transport_ = options_.transport_impl;
  } else {
    auto t = Transports().Create(options_.transport, {.addrs = options_.transport_address,
                                                      .secure = options_.transport_secure,
                                                      .tls = options_.tls,
                                                      .executor = runtime_->executor()});
    if (!t) return std::move(t).error();
    transport_ = *t;
  }
  if (options_.broker_impl) {
    broker_ = options_.broker_impl;
  } else {
    // The broker shares the service's I/O threads and its registry cache (with the client).
    auto b = Brokers().Create(
        options_.broker,
        {.addrs = options_.broker_address, .registry = cache_, .executor = runtime_->executor()});
    if (!b) return std::move(b).error();
    broker_ = *b;
  }
  broker_ = ObserveBroker(broker_, observer_);
  auto sel = Selectors().Create(options_.selector, {.registry = cache_});
  if (!sel) return std::move(sel).error();
  selector_ = *sel;

  ClientOptions co = options_.client;
  const bool observe_calls = options_.metrics || options_.tracing;
  if (observe_calls) {
    co.call_wrappers.insert(co.call_wrappers.begin(), ClientWrapper(observer_));  // outermost
  }
  // Flag-made wrappers go innermost, after the program's own (which then see their errors).
  if (options_.client_rate_limit > 0) {
    co.call_wrappers.push_back(resilience::RateLimitCall({.rate = options_.client_rate_limit}));
  }
  if (options_.client_breaker) {
    co.call_wrappers.push_back(
        resilience::BreakerCall(std::make_shared<resilience::CircuitBreakers>()));
  }
  co.transport = transport_;
  co.selector = selector_;
  co.broker = broker_;
  co.executor = runtime_->executor();
  auto client = NewClient(std::move(co));
  if (!client) return std::move(client).error();
  client_ = *client;
  // go-micro's WrapClient: the last listed wraps first, so the first listed is outermost.
  for (auto it = options_.wrap_client.rbegin(); it != options_.wrap_client.rend(); ++it) {
    if (auto wrapped = (*it)(client_)) client_ = std::move(wrapped);
  }

  std::vector<HandlerWrapper> wrappers = options_.wrappers;
  if (observe_calls) {
    wrappers.insert(wrappers.begin(), ServerWrapper(observer_));  // outermost: sees every answer
  }
  if (options_.server_rate_limit > 0) {
    wrappers.push_back(resilience::RateLimitHandler({.rate = options_.server_rate_limit}));
  }
  auto server = NewServer({.name = options_.name,
                           .id = options_.id,
                           .version = options_.version,
                           .address = options_.address,
                           .advertise = options_.advertise,
                           .metadata = options_.metadata,
                           .register_ttl = options_.register_ttl,
                           .register_interval = options_.register_interval,
                           .drain_timeout = options_.drain_timeout,
                           .max_in_flight = options_.max_in_flight,
                           .inline_handlers = options_.inline_handlers,
                           .wrappers = std::move(wrappers),
                           .stream_wrappers = options_.stream_wrappers,
                           .subscriber_wrappers = options_.subscriber_wrappers,
                           .broker = broker_,
                           .transport = transport_,
                           .registry = observed_registry});
  if (!server) return std::move(server).error();
  server_ = *server;
  observer_->SetRegistering(registry_ != nullptr);
  if (options_.debug_handler) {
    if (Status s = server_->Handle(DebugHandler(observer_)); !s) return s;
  }
  return {};
}

micro::Server& Service::Server() { return *ServerPtr(); }

std::shared_ptr<micro::Server> Service::ServerPtr() {
  if (Status s = Build(); !s) {
    log::Error("service {}: {}", options_.name, s.error());
    std::abort();
  }
  return server_;
}

std::shared_ptr<micro::Client> Service::Client() {
  (void)ServerPtr();
  return client_;
}

std::shared_ptr<micro::Registry> Service::Registry() {
  (void)ServerPtr();
  return registry_;
}

std::shared_ptr<RegistryCache> Service::Cache() {
  (void)ServerPtr();
  return cache_;
}

std::shared_ptr<micro::Broker> Service::Broker() {
  (void)ServerPtr();
  return broker_;
}

std::shared_ptr<micro::Observer> Service::Observer() {
  (void)ServerPtr();
  return observer_;
}

std::string Service::DebugAddress() const { return admin_ ? admin_->Addr() : ""; }

std::shared_ptr<micro::Transport> Service::Transport() {
  (void)ServerPtr();
  return transport_;
}

Status Service::Start() {
  if (Status s = Build(); !s) return s;
  for (auto& hook : options_.before_start) {
    if (Status s = hook(); !s) return s;
  }
  // The admin listener first: probes see "not ready" until the server serves.
  if (!options_.debug_address.empty() && !admin_) {
    auto admin = AdminServer::Start({.address = options_.debug_address}, observer_);
    if (!admin) return std::move(admin).error();
    admin_ = *admin;
    log::Info("Debug [http] Listening on {}", admin_->Addr());
  }
  if (Status s = server_->Start(); !s) return s;
  observer_->SetServing(true);
  for (auto& hook : options_.after_start) {
    if (Status s = hook(); !s) return s;
  }
  return {};
}

Status Service::Stop() {
  if (observer_) observer_->SetServing(false);  // not ready from the first moment of draining
  Status last;
  for (auto& hook : options_.before_stop) {
    if (Status s = hook(); !s) last = s;
  }
  if (server_) {
    if (Status s = server_->Stop(); !s) return s;
  }
  if (broker_) {
    if (Status s = broker_->Disconnect(); !s) last = s;
  }
  for (auto& hook : options_.after_stop) {
    if (Status s = hook(); !s) last = s;
  }
  if (admin_) {
    admin_->Close();
    admin_.reset();
  }
  return last;
}

void Service::Shutdown() { waiter_->Signal(); }

int Service::Fail(const Status& status) {
  if (!status) log::Error("service {}: {}", options_.name, status.error());
  return status ? 0 : 1;
}

int Service::Run() {
  log::Info("Starting [service] {}", options_.name);
  if (Status s = Start(); !s) return Fail(s);
  std::optional<asio::signal_set> signals;
  if (options_.handle_signals) {
    signals.emplace(runtime_->context(), SIGINT, SIGTERM, SIGQUIT);
    signals->async_wait([w = waiter_](std::error_code ec, int sig) {
      if (!ec) {
        log::Info("Received signal {}", sig);
        w->Signal();
      }
    });
  }
  {
    std::unique_lock l(waiter_->mu);
    waiter_->cv.wait(l, [&] { return waiter_->done; });
  }
  if (signals) signals->cancel();
  log::Info("Stopping [service] {}", options_.name);
  return Fail(Stop());
}

}  // namespace micro
