// micro::Service: a server, a client and their plugins, configured the go-micro way.
//
//   int main(int argc, char** argv) {
//     micro::Service service({.name = "greeter", .version = "1.0.0"});
//     if (auto s = service.Init(argc, argv); !s) return service.Fail(s);  // flags + MICRO_*
//     greeter::RegisterGreeterHandler(service.Server(), std::make_shared<Greeter>());
//     return service.Run();   // registers, serves; SIGINT/SIGTERM: drain, deregister, return 0
//   }
//
// Init reads go-micro's flags (`--registry=etcd`, `--registry etcd`) and MICRO_* environment
// variables (flags win): registry, registry_address, transport, transport_address, selector,
// broker, broker_address, server_name, server_version, server_id, server_address,
// server_advertise, server_metadata (k=v, repeatable), register_ttl and register_interval
// (seconds), client_retries, client_request_timeout, client_pool_size, client_pool_ttl (Go
// durations such as 5s or 1m30s), the resilience flags (docs/resilience.md) and the
// observability ones (docs/observability.md): debug_handler (true|false), debug_address
// (admin HTTP: /health, /health/live, /health/ready, /metrics), metrics and tracing (true|false),
// tracer_address (OTLP/HTTP collector), tracer_sample (0..1), log_format (text|json),
// client and server (implementation names: mucp), profile (local|nats), transport_secure,
// tls_cert_file, tls_key_file, tls_ca_file, tls_insecure, plus MICRO_PROXY: host:port (every
// call goes there) or a service name (every call goes to that service's nodes; "service" means
// go.micro.proxy), as go-micro reads it. An
// unknown plugin name is an Error listing the known ones; `--help` prints the flags and known
// names and exits 0. Unrecognised arguments are left for the program.
//
// Parts are built on first use (Init, Server(), Client() or Run()) from the options.
// Threading: configure and Init from one thread; Server()/Client() are then safe to share.
#pragma once

#include <micro/broker.h>
#include <micro/client.h>
#include <micro/observability.h>
#include <micro/registry.h>
#include <micro/runtime.h>
#include <micro/selector.h>
#include <micro/server.h>
#include <micro/transport.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace micro {

struct ServiceOptions {
  std::string name = "go.micro.server";
  std::string version = "latest";
  std::string id;              // node id suffix; empty: the process UUID
  std::string address = ":0";  // listen address
  std::string advertise;       // registry address, if not the listen address
  std::map<std::string, std::string> metadata;
  Duration register_ttl = std::chrono::seconds(60);  // go-micro's flag default
  Duration register_interval = std::chrono::seconds(30);
  Duration drain_timeout = std::chrono::seconds(5);

  // Plugins by name (the tables in plugin.h) and their addresses.
  std::string registry = "mdns";
  std::vector<std::string> registry_address;
  std::string transport = "http";
  std::vector<std::string> transport_address;
  std::string selector = "registry";
  std::string broker = "http";
  std::vector<std::string> broker_address;
  // --client / --server: the client and server implementation by name. "mucp" is the one
  // there is (go-micro's grpc client and server are not ported); another name fails Init.
  std::string client_plugin = "mucp";
  std::string server_plugin = "mucp";
  // --profile: a bundle of plugin names, as go-micro v6's: "local" = mdns registry, http
  // broker, http transport; "nats" = the nats registry, broker and transport at
  // MICRO_NATS_ADDRESS (default nats://127.0.0.1:4222; the nats plugin must be linked). Applied
  // before every other flag and variable, which win over it.
  std::string profile;
  // Transport TLS (micro/transport.h): --transport_secure (true|false) turns it on for dial and
  // listen; --tls_cert_file, --tls_key_file, --tls_ca_file; --tls_insecure (true|false, also
  // MICRO_TLS_INSECURE as go-micro v6 reads it): do not verify servers.
  bool transport_secure = false;
  TlsOptions tls;

  // Or ready-made parts, which win over names.
  std::shared_ptr<Registry> registry_impl;
  std::shared_ptr<Transport> transport_impl;
  std::shared_ptr<Broker> broker_impl;

  // Resilience (docs/resilience.md); each also a flag. Off by default.
  std::size_t max_in_flight = 0;  // --server_max_in_flight: shed unary calls beyond (503)
  double server_rate_limit = 0;   // --server_rate_limit: requests/s for the whole server (429)
  double client_rate_limit = 0;   // --client_rate_limit: call attempts/s (waits up to 1 s)
  bool client_breaker = false;    // --client_breaker: a circuit breaker per node, defaults
  // --server_inline_handlers: run every sync unary handler on the I/O threads
  // (ServerOptions::inline_handlers; only for handlers that never block).
  bool inline_handlers = false;

  // Observability (docs/observability.md); each also a flag.
  bool debug_handler = true;  // --debug_handler: go-micro's internal Debug.* handler
  std::string debug_address;  // --debug_address: admin HTTP listener; empty: none
  bool metrics = true;        // --metrics: Prometheus metrics (served on debug_address)
  // --tracing: spans and trace propagation. With metrics and tracing both off no call wrapper
  // is installed at all (Debug.Stats then counts nothing).
  bool tracing = true;
  std::string tracer_address;  // --tracer_address: OTLP/HTTP collector; empty: no export
  // --tracer_sample: share of new traces recorded, 0..1. Unset: 1 with a tracer_address, else
  // 0. Calls whose traceparent says sampled are recorded either way.
  std::optional<double> tracer_sample;
  std::string log_format;  // --log_format: text or json; empty: MICRO_LOG_FORMAT, else text

  ClientOptions client;  // transport/selector/executor are filled in by the service
  // Whole-client wrappers (go-micro's WrapClient): each gets the client built from `client` and
  // returns the one Client() hands out; the first listed is outermost. A null result keeps the
  // client it was given.
  std::vector<ClientDecorator> wrap_client;
  std::vector<HandlerWrapper> wrappers;                // go-micro's WrapHandler
  std::vector<ServerStreamWrapper> stream_wrappers;    // around every stream handler
  std::vector<SubscriberWrapper> subscriber_wrappers;  // go-micro's WrapSubscriber
  std::size_t threads = 0;                             // I/O threads; 0: Runtime::Cpus()

  std::vector<std::function<Status()>> before_start, after_start, before_stop, after_stop;
  bool handle_signals = true;
};

class Service {
 public:
  explicit Service(ServiceOptions options = {});
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Applies MICRO_* variables, then flags; builds the parts. `--help` prints usage and exits.
  Status Init(int argc, char** argv);
  // Same, from explicit arguments and an environment lookup (for tests).
  Status Init(const std::vector<std::string>& args,
              const std::function<std::optional<std::string>(const std::string&)>& getenv);

  // Built on first use; fatal misconfiguration is reported by Init/Run (these then abort).
  // The parts run on the Service's I/O threads: release every copy before the Service goes.
  micro::Server& Server();
  std::shared_ptr<micro::Server> ServerPtr();
  std::shared_ptr<micro::Client> Client();
  std::shared_ptr<micro::Registry> Registry();
  // The registry cache the client's selector and the broker share (lookups without copies).
  std::shared_ptr<RegistryCache> Cache();
  std::shared_ptr<micro::Transport> Transport();
  std::shared_ptr<micro::Broker> Broker();
  // Metrics, tracer, health and readiness of this service (micro/observability.h).
  std::shared_ptr<micro::Observer> Observer();
  // Adds a check to /health, /health/ready (and Debug.Health when critical).
  void AddHealthCheck(HealthCheck check) { Observer()->AddHealthCheck(std::move(check)); }
  // The admin listener's "host:port" while started with a debug_address; else "".
  std::string DebugAddress() const;

  // Hooks, then server start/stop (go-micro's order and error rules).
  Status Start();
  Status Stop();
  // Start, wait for SIGINT/SIGTERM (or Shutdown()), Stop. Returns 0, or 1 after logging why.
  int Run();
  // Makes Run return (from any thread, e.g. a handler or a test).
  void Shutdown();
  // Logs the error and returns 1 (for `return service.Fail(status);`).
  int Fail(const Status& status);

  const ServiceOptions& Options() const { return options_; }
  // Usage text: every flag and the known plugin names.
  static std::string Usage();
  // The flags Init reads, without dashes ("registry", "registry_address", ...); each also
  // comes from MICRO_<FLAG upper-cased>. For programs that parse their own command line and
  // hand these through to Init (the `micro` CLI).
  static std::vector<std::string> FlagNames();

 private:
  Status Build();

  ServiceOptions options_;
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<micro::Registry> registry_;
  std::shared_ptr<RegistryCache> cache_;  // in front of registry_: the selector's and broker's
  std::shared_ptr<micro::Transport> transport_;
  std::shared_ptr<micro::Broker> broker_;
  std::shared_ptr<Selector> selector_;
  std::shared_ptr<micro::Client> client_;
  std::shared_ptr<micro::Server> server_;
  std::shared_ptr<micro::Observer> observer_;
  std::shared_ptr<AdminServer> admin_;
  struct Waiter;
  std::shared_ptr<Waiter> waiter_;
};

// Go's time.ParseDuration: "300ms", "1.5h", "2h45m", "10us"; an Error for bad text.
Result<Duration> ParseGoDuration(std::string_view text);

}  // namespace micro
