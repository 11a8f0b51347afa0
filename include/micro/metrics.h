// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for a scrape of /metrics (docs/observability.md).
//
//   auto reg = std::make_shared<micro::metrics::Registry>();
//   auto& calls = reg->Counter("app_calls_total", "Calls made.", {"kind"});
//   calls.With({"fast"}).Inc();                 // look the series up once, keep the reference
//   auto& lat = reg->Histogram("app_latency_seconds", "Latency.", {"kind"});
//   lat.With({"fast"}).Observe(0.0012);
//   std::string text = reg->Render();           // "# HELP app_calls_total Calls made.\n..."
//
// A Service keeps one Registry with the metrics of docs/observability.md (micro_request_total,
// micro_request_duration_seconds, ...) and serves it on --debug_address.
//
// Cost: Inc/Add/Observe are lock-free (relaxed atomics, no allocation). With() takes a lock and
// may allocate a series the first time a label set is seen: callers on a hot path look a series
// up once and keep the reference. Series live as long as their Registry and are never removed.
// Threading: everything may be called from any thread.
// Errors: registering a name twice with another type or other labels, or With() with the wrong
// number of label values, throws std::invalid_argument (a programming error).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace micro::metrics {

class CounterValue {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class GaugeValue {
 public:
  void Add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t n) { v_.store(n, std::memory_order_relaxed); }
  int64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Cumulative buckets are computed when rendered; an observation touches one bucket, the sum
// and the count.
class HistogramValue {
 public:
  explicit HistogramValue(const std::vector<double>& bounds);
  void Observe(double value);
  // For durations: the sum is kept in nanoseconds (exact), rendered in seconds.
  void ObserveNanos(int64_t ns);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const;
  // Per-bucket (not cumulative) counts; the last is +Inf.
  std::vector<uint64_t> Buckets() const;
  const std::vector<double>& Bounds() const { return bounds_; }

 private:
  std::size_t BucketOf(double value) const;
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_ns_{0};
  std::atomic<uint64_t> sum_bits_{0};  // a double, for Observe(double)
};

// Prometheus' default buckets with three below 5 ms (our calls are fast).
const std::vector<double>& DefaultBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// One metric name with its label names; a series per label value set.
template <class Value>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  // The series for these label values (in label order). Stable reference.
  Value& With(const std::vector<std::string>& values);
  // Every series: label values -> value. For rendering and tests.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard lock(mu_);
    for (const auto& [values, v] : series_) fn(values, *v);
  }
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Value>> series_;
};

using CounterFamily = Family<CounterValue>;
using GaugeFamily = Family<GaugeValue>;
using HistogramFamily = Family<HistogramValue>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or returns the existing) family. Names and labels follow Prometheus' rules
  // ([a-zA-Z_:][a-zA-Z0-9_:]*); counters should end in _total.
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> labels = {});
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> labels = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labels = {},
                             std::vector<double> bounds = DefaultBuckets());

  // Adds text rendered after the families at each Render (e.g. process metrics computed at
  // scrape time). fn appends complete, valid exposition lines (HELP/TYPE included).
  void AddCollector(std::function<void(std::string& out)> fn);

  // Every family in registration order, then the collectors: the text exposition format.
  std::string Render() const;

 private:
  struct Entry {
    Type type;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<GaugeFamily> gauge;
    std::unique_ptr<HistogramFamily> histogram;
  };
  Entry& Find(const std::string& name, Type type, const std::vector<std::string>& labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Label value escaping of the exposition format (\\, \", \n).
std::string EscapeLabelValue(std::string_view v);

// This process (Linux /proc): resident memory, virtual memory, threads, open file descriptors,
// the fd limit, CPU seconds, start time, as process_* metrics (Prometheus' standard names plus
// process_threads). A collector for Registry::AddCollector.
void RenderProcessMetrics(std::string& out);

struct ProcessStats {
  uint64_t rss_bytes = 0;
  uint64_t virtual_bytes = 0;
  uint64_t threads = 0;
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  double cpu_seconds = 0;
  double start_time_seconds = 0;  // unix time the process started
  uint64_t heap_bytes = 0;        // malloc'd and in use (mallinfo2)
};
ProcessStats ReadProcessStats();

}  // namespace micro::metrics
