// Metric families and the Prometheus text exposition format.
#include "micro/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace micro::metrics {
namespace {

template <class Value>
std::unique_ptr<Value> MakeMetricValue(const std::vector<double>& bounds) {
  if constexpr (std::is_same_v<Value, HistogramValue>) {
    return std::make_unique<HistogramValue>(bounds);
  } else {
    (void)bounds;
    return std::make_unique<Value>();
  }
}

// Prometheus' float formatting: integers without a fraction, +Inf, shortest round trip.
std::string MetricNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type) {
  out += "# HELP " + name + " " + EscapeHelp(help) + "\n";
  out += "# TYPE " + name + " " + std::string(type) + "\n";
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

// --- values ------------------------------------------------------------------------------

HistogramValue::HistogramValue(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

std::size_t HistogramValue::BucketOf(double value) const {
  return static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                             bounds_.begin());
}

void HistogramValue::Observe(double value) {
  buckets_[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
  uint64_t old = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(
      old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + value),
      std::memory_order_relaxed)) {
  }
  count_.fetch_add(1, std::memory_order_relaxed);
}

void HistogramValue::ObserveNanos(int64_t ns) {
  buckets_[BucketOf(static_cast<double>(ns) * 1e-9)].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

double HistogramValue::Sum() const {
  return std::bit_cast<double>(sum_bits_.load(std::memory_order_relaxed)) +
         static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) * 1e-9;
}

std::vector<uint64_t> HistogramValue::Buckets() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

template <class Value>
Value& Family<Value>::With(const std::vector<std::string>& values) {
  if (values.size() != labels_.size()) {
    throw std::invalid_argument(fmt::format("metric {}: {} label values for {} labels", name_,
                                            values.size(), labels_.size()));
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) it = series_.emplace(values, MakeMetricValue<Value>(bounds_)).first;
  return *it->second;
}

template class Family<CounterValue>;
template class Family<GaugeValue>;
template class Family<HistogramValue>;

// --- registry ------------------------------------------------------------------------------

Registry::Entry& Registry::Find(const std::string& name, Type type,
                                const std::vector<std::string>& labels) {
  for (auto& e : entries_) {
    const std::string* existing = nullptr;
    const std::vector<std::string>* existing_labels = nullptr;
    if (e->counter) existing = &e->counter->name(), existing_labels = &e->counter->labels();
    if (e->gauge) existing = &e->gauge->name(), existing_labels = &e->gauge->labels();
    if (e->histogram) existing = &e->histogram->name(), existing_labels = &e->histogram->labels();
    if (existing && *existing == name) {
      if (e->type != type || *existing_labels != labels) {
        throw std::invalid_argument("metric " + name + " registered twice differently");
      }
      return *e;
    }
  }
  entries_.push_back(std::make_unique<Entry>(Entry{.type = type}));
  return *entries_.back();
}

CounterFamily& Registry::Counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kCounter, labels);
  if (!e.counter) e.counter = std::make_unique<CounterFamily>(name, help, std::move(labels));
  return *e.counter;
}

GaugeFamily& Registry::Gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kGauge, labels);
  if (!e.gauge) e.gauge = std::make_unique<GaugeFamily>(name, help, std::move(labels));
  return *e.gauge;
}

HistogramFamily& Registry::Histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  std::lock_guard lock(mu_);
  Entry& e = Find(name, Type::kHistogram, labels);
  if (!e.histogram) {
    e.histogram =
        std::make_unique<HistogramFamily>(name, help, std::move(labels), std::move(bounds));
  }
  return *e.histogram;
}

void Registry::AddCollector(std::function<void(std::string&)> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::Render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_) {
      if (e->counter) {
        const CounterFamily& f = *e->counter;
        Header(out, f.name(), f.help(), "counter");
        f.ForEach([&](const std::vector<std::string>& values, const CounterValue& v) {
          out += f.name() + LabelText(f.labels(), values) + " " + std::to_string(v.Value()) + "\n";
        });
      } else if (e->gauge) {
        const GaugeFamily& f = *e->gauge;
        Header(out, f.name(), f.help(), "gauge");
        f.ForEach([&](const std::vector<std::string>& values, const GaugeValue& v) {
          out += f.name() + LabelText(f.labels(), values) + " " + std::to_string(v.Value()) + "\n";
        });
      } else if (e->histogram) {
        const HistogramFamily& f = *e->histogram;
        Header(out, f.name(), f.help(), "histogram");
        f.ForEach([&](const std::vector<std::string>& values, const HistogramValue& v) {
          // _count is the +Inf bucket: concurrent observations cannot make them disagree.
          const std::vector<uint64_t> buckets = v.Buckets();
          uint64_t cumulative = 0;
          for (size_t i = 0; i < buckets.size(); ++i) {
            cumulative += buckets[i];
            const std::string le = i < v.Bounds().size() ? MetricNumber(v.Bounds()[i]) : "+Inf";
            out += f.name() + "_bucket" + LabelText(f.labels(), values, "le", le) + " " +
                   std::to_string(cumulative) + "\n";
          }
          out += f.name() + "_sum" + LabelText(f.labels(), values) + " " + MetricNumber(v.Sum()) +
                 "\n";
          out += f.name() + "_count" + LabelText(f.labels(), values) + " " +
                 std::to_string(cumulative) + "\n";
        });
      }
    }
    collectors = collectors_;
  }
  for (const auto& c : collectors) c(out);
  return out;
}

}  // namespace micro::metrics
