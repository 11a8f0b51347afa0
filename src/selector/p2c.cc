// The p2c selector: power of two choices over latency EWMA x (in flight + 1), on top of the
// registry selector (cache, filters, marks).
#include <micro/selector.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <unordered_map>

namespace micro {
namespace {

// Load of one node: calls in flight and a time-weighted latency EWMA (nanoseconds).
struct NodeLoad {
  std::atomic<int> in_flight{0};
  std::mutex mu;
  double ewma_ns = 0;  // under mu
  TimePoint last{};    // last sample, under mu
  bool sampled = false;
};

class LoadTable {
 public:
  explicit LoadTable(P2COptions o)
      : decay_ns_(static_cast<double>(std::chrono::nanoseconds(o.decay).count())),
        idle_ns_(static_cast<double>(std::chrono::nanoseconds(o.idle_decay).count())),
        penalty_ns_(static_cast<double>(std::chrono::nanoseconds(o.failure_penalty).count())) {}

  std::shared_ptr<NodeLoad> Find(const std::string& id) const {
    std::shared_lock lock(mu_);
    auto it = loads_.find(id);
    return it == loads_.end() ? nullptr : it->second;
  }

  std::shared_ptr<NodeLoad> Get(const std::string& id) {
    if (auto found = Find(id)) return found;
    std::unique_lock lock(mu_);
    if (loads_.size() >= kPruneAt) Prune();
    auto& slot = loads_[id];
    if (!slot) slot = std::make_shared<NodeLoad>();
    return slot;
  }

  void Sample(NodeLoad& load, const Status& status, Duration latency) {
    double sample = static_cast<double>(std::chrono::nanoseconds(latency).count());
    if (!status.ok() && (status.error().code == 408 || status.error().code >= 500)) {
      sample = std::max(sample, penalty_ns_);
    }
    const TimePoint now = Clock::now();
    std::lock_guard lock(load.mu);
    if (!load.sampled) {
      load.ewma_ns = sample;
      load.sampled = true;
    } else {
      const double dt = std::chrono::duration<double, std::nano>(now - load.last).count();
      const double w = std::exp(-std::max(dt, 0.0) / decay_ns_);
      load.ewma_ns = load.ewma_ns * w + sample * (1 - w);
    }
    load.last = now;
  }

  // latency EWMA (faded while idle) x (in flight + 1); a node never sampled costs least.
  double Cost(const registry::Node& node, TimePoint now) const {
    auto load = Find(node.id);
    if (!load) return 0;
    double ewma = 0;
    {
      std::lock_guard lock(load->mu);
      if (load->sampled) {
        const double idle = std::chrono::duration<double, std::nano>(now - load->last).count();
        ewma = load->ewma_ns * std::exp(-std::max(idle, 0.0) / idle_ns_);
      }
    }
    // 1 us floor: among unmeasured (or idle) nodes, fewer calls in flight still wins.
    return (ewma + 1000.0) * (load->in_flight.load(std::memory_order_relaxed) + 1);
  }

 private:
  static constexpr size_t kPruneAt = 4096;
  // Under an exclusive lock: drops idle nodes (no call in flight, no sample for a minute).
  void Prune() {
    const TimePoint old = Clock::now() - std::chrono::minutes(1);
    for (auto it = loads_.begin(); it != loads_.end();) {
      bool idle = it->second->in_flight.load() == 0;
      if (idle) {
        std::lock_guard lock(it->second->mu);
        idle = it->second->last < old;
      }
      it = idle ? loads_.erase(it) : std::next(it);
    }
  }

  const double decay_ns_, idle_ns_, penalty_ns_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<NodeLoad>> loads_;
};

selector::Strategy P2CStrategy(std::shared_ptr<const LoadTable> table) {
  return [table](selector::NodeList nodes) -> selector::Next {
    return [table, nodes]() -> Result<const registry::Node*> {
      const size_t n = nodes->size();
      if (n == 1) return &(*nodes)[0];
      thread_local std::mt19937_64 rng{std::random_device{}()};
      size_t i = rng() % n;
      size_t j = rng() % (n - 1);
      if (j >= i) ++j;
      const TimePoint now = Clock::now();
      return table->Cost((*nodes)[j], now) < table->Cost((*nodes)[i], now) ? &(*nodes)[j]
                                                                           : &(*nodes)[i];
    };
  };
}

class P2CSelector final : public Selector {
 public:
  P2CSelector(std::shared_ptr<Selector> inner, std::shared_ptr<LoadTable> table)
      : inner_(std::move(inner)), table_(std::move(table)) {}

  Result<selector::Next> Select(std::string_view service, const SelectOptions& options) override {
    return inner_->Select(service, options);
  }
  std::optional<Result<selector::Next>> TrySelect(std::string_view service,
                                                  const SelectOptions& options) override {
    return inner_->TrySelect(service, options);
  }
  void SelectAsync(std::string_view service, const SelectOptions& options,
                   SelectCallback done) override {
    inner_->SelectAsync(service, options, std::move(done));
  }
  void Mark(std::string_view service, const registry::Node& node, const Status& status) override {
    inner_->Mark(service, node, status);
  }
  void Reset(std::string_view service) override { inner_->Reset(service); }
  std::string String() const override { return "p2c"; }

  void Begin(std::string_view, const registry::Node& node) override {
    table_->Get(node.id)->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  void End(std::string_view, const registry::Node& node, const Status& status,
           Duration latency) override {
    auto load = table_->Get(node.id);
    load->in_flight.fetch_sub(1, std::memory_order_relaxed);
    table_->Sample(*load, status, latency);
  }

 private:
  const std::shared_ptr<Selector> inner_;
  const std::shared_ptr<LoadTable> table_;
};

}  // namespace

Result<std::shared_ptr<Selector>> NewP2CSelector(SelectorOptions options, P2COptions p2c) {
  auto table = std::make_shared<LoadTable>(p2c);
  if (!options.strategy) options.strategy = P2CStrategy(table);
  auto inner = NewSelector(std::move(options));
  if (!inner) return std::move(inner).error();
  return std::shared_ptr<Selector>(std::make_shared<P2CSelector>(*std::move(inner), table));
}

}  // namespace micro
