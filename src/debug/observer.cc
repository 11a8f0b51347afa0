// Observer: one service's metric families, per-endpoint series, stats and health checks.
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>

#include "micro/observability.h"

namespace micro {
namespace {

constexpr const char* kSuccess = "success";
constexpr const char* kFail = "fail";  // go-micro's Prometheus wrapper (v6) says "fail"

struct SeriesKeyView {
  std::string_view service, endpoint;
};
using SeriesKey = std::pair<std::string, std::string>;

struct SeriesKeyHash {
  using is_transparent = void;
  std::size_t operator()(SeriesKeyView k) const noexcept {
    const std::size_t a = std::hash<std::string_view>{}(k.service);
    return a ^ (std::hash<std::string_view>{}(k.endpoint) + 0x9e3779b97f4a7c15ULL + (a << 6) +
                (a >> 2));
  }
  std::size_t operator()(const SeriesKey& k) const noexcept {
    return (*this)(SeriesKeyView{k.first, k.second});
  }
};
struct SeriesKeyEqual {
  using is_transparent = void;
  static SeriesKeyView View(const SeriesKey& k) { return {k.first, k.second}; }
  static SeriesKeyView View(SeriesKeyView k) { return k; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const noexcept {
    return View(a).service == View(b).service && View(a).endpoint == View(b).endpoint;
  }
};

// Each thread remembers the client series it used last (per Observer, told apart by an id that
// is never reused), so a steady stream of calls skips the shared table and its lock.
struct ClientSeriesMemo {
  uint64_t owner = 0;
  std::string service, endpoint;
  Observer::CallSeries* series = nullptr;
};
constexpr std::size_t kClientMemoSize = 4;
thread_local std::array<ClientSeriesMemo, kClientMemoSize> tls_client_memo;
thread_local std::size_t tls_client_memo_next = 0;
std::atomic<uint64_t> next_observer_id{1};

std::string CodeOf(const Status& status) {
  if (status.ok()) return "200";
  return std::to_string(status.error().code);
}

std::string DurationText(Duration d) {
  return fmt::format("{}us", std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

struct Observer::Families {
  metrics::CounterFamily* server_total;
  metrics::HistogramFamily* server_latency;
  metrics::GaugeFamily* server_in_flight;
  metrics::CounterFamily* client_total;
  metrics::HistogramFamily* client_latency;
  metrics::GaugeFamily* client_in_flight;
  metrics::CounterFamily* published;
  metrics::CounterFamily* delivered;
  metrics::CounterValue* lookups_ok;
  metrics::CounterValue* lookups_failed;
  metrics::CounterValue* cache_hits;
};

struct Observer::SeriesTable {
  std::shared_mutex mu;
  std::unordered_map<SeriesKey, std::unique_ptr<CallSeries>, SeriesKeyHash, SeriesKeyEqual> map;
};

Observer::Observer(ObserverOptions options)
    : options_(std::move(options)),
      started_unix_(std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count()),
      id_(next_observer_id.fetch_add(1)),
      server_series_(std::make_unique<SeriesTable>()),
      client_series_(std::make_unique<SeriesTable>()) {
  if (!options_.metrics) return;
  metrics_ = std::make_shared<metrics::Registry>();
  auto& m = *metrics_;
  families_ = std::make_unique<Families>();
  auto& f = *families_;
  f.server_total = &m.Counter("micro_request_total", "Requests handled by this service.",
                              {"service", "endpoint", "status", "code"});
  f.server_latency =
      &m.Histogram("micro_request_duration_seconds", "Time handlers took, in seconds.",
                   {"service", "endpoint", "status"});
  f.server_in_flight =
      &m.Gauge("micro_requests_in_flight", "Requests being handled now.", {"service", "endpoint"});
  f.client_total = &m.Counter("micro_client_request_total", "Call attempts made to other services.",
                              {"service", "endpoint", "status", "code"});
  f.client_latency =
      &m.Histogram("micro_client_request_duration_seconds", "Time call attempts took, in seconds.",
                   {"service", "endpoint", "status"});
  f.client_in_flight = &m.Gauge("micro_client_requests_in_flight", "Call attempts running now.",
                                {"service", "endpoint"});
  f.published =
      &m.Counter("micro_broker_published_total", "Messages published.", {"topic", "status"});
  f.delivered =
      &m.Counter("micro_broker_delivered_total",
                 "Messages delivered to this service's subscribers.", {"topic", "status"});
  auto& lookups = m.Counter("micro_registry_lookups_total",
                            "Service lookups that reached the registry.", {"status"});
  f.lookups_ok = &lookups.With({kSuccess});
  f.lookups_failed = &lookups.With({kFail});
  f.cache_hits = &m.Counter("micro_registry_cache_hits_total",
                            "Service lookups answered from the registry cache.")
                      .With({});
  m.Gauge("micro_service_info", "Constant 1, labelled with the service's name and version.",
          {"service", "version"})
      .With({options_.service, options_.version})
      .Set(1);
  if (options_.tracer) {
    std::weak_ptr<trace::Tracer> tracer = options_.tracer;
    m.AddCollector([tracer](std::string& out) {
      auto t = tracer.lock();
      if (!t) return;
      out +=
          "# HELP micro_trace_spans_total Spans recorded (sampled).\n"
          "# TYPE micro_trace_spans_total counter\n";
      out += "micro_trace_spans_total " + std::to_string(t->Recorded()) + "\n";
      if (auto* otlp = dynamic_cast<trace::OtlpHttpExporter*>(t->exporter())) {
        out +=
            "# HELP micro_trace_spans_exported_total Spans sent to the collector.\n"
            "# TYPE micro_trace_spans_exported_total counter\n";
        out += "micro_trace_spans_exported_total " + std::to_string(otlp->Exported()) + "\n";
        out +=
            "# HELP micro_trace_spans_dropped_total Spans dropped: export queue full.\n"
            "# TYPE micro_trace_spans_dropped_total counter\n";
        out += "micro_trace_spans_dropped_total " + std::to_string(otlp->Dropped()) + "\n";
        out +=
            "# HELP micro_trace_export_failed_spans_total Spans in failed exports.\n"
            "# TYPE micro_trace_export_failed_spans_total counter\n";
        out += "micro_trace_export_failed_spans_total " + std::to_string(otlp->Failed()) + "\n";
      }
    });
  }
  m.AddCollector(metrics::RenderProcessMetrics);
}

Observer::~Observer() = default;

Observer::CallSeries* Observer::Series(SeriesTable& table, bool server, std::string_view service,
                                       std::string_view endpoint) {
  if (!families_) return nullptr;
  {
    std::shared_lock lock(table.mu);
    auto it = table.map.find(SeriesKeyView{service, endpoint});
    if (it != table.map.end()) return it->second.get();
  }
  auto series = std::make_unique<CallSeries>();
  series->service = std::string(service);
  series->endpoint = std::string(endpoint);
  auto* total = server ? families_->server_total : families_->client_total;
  auto* latency = server ? families_->server_latency : families_->client_latency;
  auto* in_flight = server ? families_->server_in_flight : families_->client_in_flight;
  series->ok = &total->With({series->service, series->endpoint, kSuccess, "200"});
  series->ok_latency = &latency->With({series->service, series->endpoint, kSuccess});
  series->in_flight = &in_flight->With({series->service, series->endpoint});
  std::unique_lock lock(table.mu);
  auto [it, added] =
      table.map.try_emplace(SeriesKey{series->service, series->endpoint}, std::move(series));
  return it->second.get();
}

Observer::CallSeries* Observer::ServerSeries(std::string_view endpoint) {
  return Series(*server_series_, true, options_.service, endpoint);
}

Observer::CallSeries* Observer::ClientSeries(std::string_view service, std::string_view endpoint) {
  if (!families_) return nullptr;
  for (const auto& m : tls_client_memo) {
    if (m.owner == id_ && m.service == service && m.endpoint == endpoint) return m.series;
  }
  CallSeries* series = Series(*client_series_, false, service, endpoint);
  auto& slot = tls_client_memo[tls_client_memo_next++ % kClientMemoSize];
  slot.owner = id_;
  slot.service = series->service;
  slot.endpoint = series->endpoint;
  slot.series = series;
  return series;
}

void Observer::RecordFailure(bool server, CallSeries* series, const Status& status, Duration took) {
  auto* total = server ? families_->server_total : families_->client_total;
  auto* latency = server ? families_->server_latency : families_->client_latency;
  total->With({series->service, series->endpoint, kFail, CodeOf(status)}).Inc();
  latency->With({series->service, series->endpoint, kFail})
      .ObserveNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
}

void Observer::RecordServer(CallSeries* series, const Status& status, Duration took) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) errors_.fetch_add(1, std::memory_order_relaxed);
  if (!series) return;
  if (status.ok()) {
    series->ok->Inc();
    series->ok_latency->ObserveNanos(
        std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  } else {
    RecordFailure(true, series, status, took);
  }
}

void Observer::RecordClient(CallSeries* series, const Status& status, Duration took) {
  if (!series) return;
  if (status.ok()) {
    series->ok->Inc();
    series->ok_latency->ObserveNanos(
        std::chrono::duration_cast<std::chrono::nanoseconds>(took).count());
  } else {
    RecordFailure(false, series, status, took);
  }
}

void Observer::RecordBroker(bool publish, std::string_view topic, const Status& status) {
  if (!families_) return;
  auto* family = publish ? families_->published : families_->delivered;
  family->With({std::string(topic), status.ok() ? kSuccess : kFail}).Inc();
}

void Observer::RecordLookup(bool ok) {
  if (!families_) return;
  (ok ? families_->lookups_ok : families_->lookups_failed)->Inc();
}

void Observer::RecordCacheHit() {
  if (families_) families_->cache_hits->Inc();
}

// --- health --------------------------------------------------------------------------------

void Observer::AddHealthCheck(HealthCheck check) {
  std::lock_guard lock(checks_mu_);
  checks_.push_back(std::move(check));
}

HealthReport Observer::Live() const { return HealthReport{}; }

HealthReport Observer::Ready() const {
  HealthReport report;
  auto add = [&](std::string name, bool up, std::string error, Duration took, bool critical) {
    report.checks.push_back({std::move(name), up, std::move(error), took});
    if (!up && critical) report.up = false;
  };
  add("serving", serving_.load(), serving_ ? "" : "not serving (starting or draining)", {}, true);
  if (registering_) {
    add("registered", registered_.load(), registered_ ? "" : "not registered", {}, true);
  }
  std::vector<HealthCheck> checks;
  {
    std::lock_guard lock(checks_mu_);
    checks = checks_;
  }
  for (const auto& c : checks) {
    const TimePoint start = Clock::now();
    Status s;
    try {
      s = c.check ? c.check() : Status{};
    } catch (const std::exception& e) {
      s = errors::InternalServerError("go.micro.health", "check threw: {}", e.what());
    }
    add(c.name, s.ok(), s.ok() ? "" : s.error().detail, Clock::now() - start, c.critical);
  }
  return report;
}

std::string HealthReport::ToJson(const std::map<std::string, std::string>& info) const {
  nlohmann::ordered_json j;
  j["status"] = up ? "up" : "down";
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& c : checks) {
    nlohmann::ordered_json e;
    e["name"] = c.name;
    e["status"] = c.up ? "up" : "down";
    if (!c.error.empty()) e["error"] = c.error;
    e["duration"] = DurationText(c.took);
    list.push_back(std::move(e));
  }
  j["checks"] = std::move(list);
  j["info"] = info;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace micro
