// Observability of a service: what a micro::Service turns on by default (docs/observability.md).
//
// - An Observer holds one service's metrics registry (metrics.h), tracer (trace.h), request
//   counters for Debug.Stats, health checks and readiness.
// - ServerWrapper / ClientWrapper are the HandlerWrapper / CallWrapper that record every call:
//   metrics (micro_request_total, micro_request_duration_seconds, micro_requests_in_flight and
//   their micro_client_* twins) and spans (server and client), continuing the caller's trace.
// - ObserveBroker, ObserveRegistry and ObserveCache wrap the parts so that publishes,
//   deliveries, registry lookups and cache hits are counted (and publish/deliver traced).
// - DebugHandler is go-micro's internal "Debug" handler (proto/debug.proto): Debug.Health,
//   Debug.Stats, Debug.Log (a stream), Debug.Trace.
// - AdminServer serves /health, /health/live, /health/ready and /metrics over HTTP.
//
// A Service does all of this itself (flags --debug_address, --debug_handler, --metrics,
// --tracer_address, --tracer_sample); build it by hand only without a Service:
//
//   auto obs = std::make_shared<micro::Observer>(micro::ObserverOptions{.service = "greeter"});
//   server_options.wrappers.insert(server_options.wrappers.begin(), micro::ServerWrapper(obs));
//   client_options.call_wrappers.insert(client_options.call_wrappers.begin(),
//                                       micro::ClientWrapper(obs));
//   server->Handle(micro::DebugHandler(obs));
//   auto admin = micro::AdminServer::Start({.address = "127.0.0.1:9090"}, obs);
//
// Cost on the call path: a few relaxed atomic increments and two clock reads per call; the
// series of an endpoint is looked up once (server) or in a read-mostly table (client). A call
// that is not sampled creates no span and allocates nothing for tracing.
// Threading: everything here may be used from any thread. An Observer must outlive the
// wrappers and parts made from it (they hold it by shared_ptr).
#pragma once

#include <micro/broker.h>
#include <micro/client.h>
#include <micro/handler.h>
#include <micro/metrics.h>
#include <micro/registry.h>
#include <micro/status.h>
#include <micro/trace.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace micro {

// One health check: ok, or an Error saying what is wrong. Runs on the admin server's own
// thread (or a handler thread for Debug.Health): it may block briefly, never for long.
struct HealthCheck {
  std::string name;
  std::function<Status()> check;
  bool critical = true;  // a failing critical check makes the service not ready (503)
};

struct HealthReport {
  bool up = true;
  struct Entry {
    std::string name;
    bool up = true;
    std::string error;
    Duration took{};
  };
  std::vector<Entry> checks;
  // go-micro v6 health JSON: {"status":"up|down","checks":[{"name","status","error",
  // "duration"}],"info":{...}}.
  std::string ToJson(const std::map<std::string, std::string>& info) const;
};

struct ObserverOptions {
  std::string service;  // label `service` of the server metrics; resource of the spans
  std::string version;
  bool metrics = true;                    // false: no registry, no metric updates
  std::shared_ptr<trace::Tracer> tracer;  // null: no spans
};

class Observer {
 public:
  explicit Observer(ObserverOptions options);
  ~Observer();
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  const std::string& service() const { return options_.service; }
  const std::string& version() const { return options_.version; }
  metrics::Registry* Metrics() const { return metrics_.get(); }    // null when off
  trace::Tracer* Tracer() const { return options_.tracer.get(); }  // null when off

  // --- health -----------------------------------------------------------------------------
  void AddHealthCheck(HealthCheck check);
  // Liveness: the process answers (no checks run).
  HealthReport Live() const;
  // Readiness: serving (started, not draining), registered (when registering at all), and
  // every user check. Not ready: `up` false.
  HealthReport Ready() const;
  // What the Service reports as its lifecycle goes.
  void SetServing(bool serving) { serving_ = serving; }
  void SetRegistering(bool registering) { registering_ = registering; }
  void SetRegistered(bool registered) { registered_ = registered; }
  bool Serving() const { return serving_; }
  bool Registered() const { return registered_; }

  // --- stats (Debug.Stats) -------------------------------------------------------------------
  uint64_t Requests() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t Errors() const { return errors_.load(std::memory_order_relaxed); }
  int64_t StartedUnix() const { return started_unix_; }

  // --- used by the wrappers and decorators below (not for application code) ----------------
  struct CallSeries {
    metrics::CounterValue* ok = nullptr;
    metrics::HistogramValue* ok_latency = nullptr;
    metrics::GaugeValue* in_flight = nullptr;
    std::string service, endpoint;
  };
  // Stable per (service, endpoint); null without metrics.
  CallSeries* ServerSeries(std::string_view endpoint);
  CallSeries* ClientSeries(std::string_view service, std::string_view endpoint);
  void RecordServer(CallSeries* series, const Status& status, Duration took);
  void RecordClient(CallSeries* series, const Status& status, Duration took);
  void RecordBroker(bool publish, std::string_view topic, const Status& status);
  void RecordLookup(bool ok);
  void RecordCacheHit();

 private:
  struct Families;
  struct SeriesTable;
  CallSeries* Series(SeriesTable& table, bool server, std::string_view service,
                     std::string_view endpoint);
  void RecordFailure(bool server, CallSeries* series, const Status& status, Duration took);

  const ObserverOptions options_;
  const int64_t started_unix_;
  const uint64_t id_;  // unique per process, never reused
  std::shared_ptr<metrics::Registry> metrics_;
  std::unique_ptr<Families> families_;
  std::unique_ptr<SeriesTable> server_series_, client_series_;
  std::atomic<uint64_t> requests_{0}, errors_{0};
  std::atomic<bool> serving_{false}, registering_{false}, registered_{false};
  mutable std::mutex checks_mu_;
  std::vector<HealthCheck> checks_;
};

// Records every unary call a server handles (put it first: outermost). Debug.* calls are
// counted but not traced (as go-micro).
HandlerWrapper ServerWrapper(std::shared_ptr<Observer> observer);
// Records every attempt a client makes on a node (put it first: outermost).
CallWrapper ClientWrapper(std::shared_ptr<Observer> observer);

// Counts (micro_broker_published_total / micro_broker_delivered_total) and traces
// ("Pub to <topic>" producer spans, "Sub from <topic>" consumer spans whose context the
// subscriber's Context metadata carries) what goes through broker.
std::shared_ptr<Broker> ObserveBroker(std::shared_ptr<Broker> broker,
                                      std::shared_ptr<Observer> observer);
// Counts GetService lookups (micro_registry_lookups_total) and tells the observer when the
// observer's service is registered / deregistered.
std::shared_ptr<Registry> ObserveRegistry(std::shared_ptr<Registry> registry,
                                          std::shared_ptr<Observer> observer);
// Counts answers a registry cache gives from memory (micro_registry_cache_hits_total).
std::shared_ptr<RegistryCache> ObserveCache(std::shared_ptr<RegistryCache> cache,
                                            std::shared_ptr<Observer> observer);

// go-micro's Debug handler (internal: served, not advertised). Health answers "ok" while every
// critical health check passes (else "unhealthy: <check>: <error>"); Stats: process start,
// uptime, heap bytes, threads, requests and errors seen by ServerWrapper; Log: the library
// log's ring (log::Ring()), at most `count`, since unix time `since`, following new lines
// when `stream`; Trace: the tracer's recent spans (of one trace when `id` is set).
Handler DebugHandler(std::shared_ptr<Observer> observer);

struct AdminOptions {
  // host:port; a bare ":port" or "port" binds 127.0.0.1 (loopback unless told otherwise).
  std::string address = "127.0.0.1:0";
};

// The admin HTTP listener, on a thread of its own:
//   GET /health        readiness report (200 up / 503 down), go-micro v6 health JSON
//   GET /health/live   200 while the process serves HTTP at all
//   GET /health/ready  as /health
//   GET /metrics       Prometheus text format 0.0.4 (404 when metrics are off)
// Other paths: 404; other methods: 405.
class AdminServer {
 public:
  static Result<std::shared_ptr<AdminServer>> Start(AdminOptions options,
                                                    std::shared_ptr<Observer> observer);
  virtual ~AdminServer() = default;
  virtual std::string Addr() const = 0;
  virtual void Close() = 0;
};

}  // namespace micro
