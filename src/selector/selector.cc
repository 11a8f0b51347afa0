// The registry selector: cache lookup, filters, strategy, and marks that take failing nodes
// out of rotation for a doubling back-off.
#include <micro/selector.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace micro {
namespace {

using selector::Next;
using selector::NodeList;

struct MarkInfo {
  TimePoint until;
  int failures = 0;
};
// service -> node id -> mark. Replaced wholesale on each change (copy on write).
using MarkTable = std::map<std::string, std::map<std::string, MarkInfo>, std::less<>>;

class RegistrySelector : public Selector {
 public:
  explicit RegistrySelector(SelectorOptions options)
      : options_(std::move(options)),
        registry_(options_.use_cache ? NewCache(options_.registry, options_.cache)
                                     : options_.registry),
        marks_(std::make_shared<const MarkTable>()) {
    if (!options_.strategy) options_.strategy = selector::Random();
  }

  Result<Next> Select(std::string_view service, const SelectOptions& options) override {
    auto found = registry_->GetService(service);
    if (!found) {
      if (registry::IsNotFound(found.error())) return selector::ErrNotFound(service);
      return std::move(found).error();
    }
    std::vector<registry::Service> services = std::move(*found);
    for (const auto& filter : options.filters) services = filter(std::move(services));
    auto nodes = std::make_shared<std::vector<registry::Node>>();
    for (auto& s : services) {
      for (auto& n : s.nodes) nodes->push_back(std::move(n));
    }
    if (nodes->empty()) return selector::ErrNoneAvailable(service);
    NodeList list = std::move(nodes);
    const auto& strategy = options.strategy ? options.strategy : options_.strategy;
    Next inner = strategy(list);
    return Next([this, inner = std::move(inner), list, name = std::string(service)]() {
      return Pick(name, inner, *list);
    });
  }

  void Mark(std::string_view service, const registry::Node& node, const Status& status) override {
    std::lock_guard lock(mu_);
    auto current = marks_;
    auto sit = current->find(service);
    const bool marked = sit != current->end() && sit->second.count(node.id);
    if (status.ok() && !marked) return;
    auto next = std::make_shared<MarkTable>(*current);
    auto& nodes = (*next)[std::string(service)];
    if (status.ok()) {
      nodes.erase(node.id);
      if (nodes.empty()) next->erase(std::string(service));
    } else {
      MarkInfo& m = nodes[node.id];
      Duration backoff = options_.mark_backoff;
      for (int i = 0; i < m.failures && backoff < options_.max_mark_backoff; ++i) backoff *= 2;
      m.failures++;
      m.until = Clock::now() + std::min(backoff, options_.max_mark_backoff);
    }
    Publish(std::move(next));
  }

  void Reset(std::string_view service) override {
    std::lock_guard lock(mu_);
    if (marks_->find(service) == marks_->end()) return;
    auto next = std::make_shared<MarkTable>(*marks_);
    next->erase(std::string(service));
    Publish(std::move(next));
  }

  std::string String() const override { return "registry"; }

 private:
  Result<registry::Node> Pick(const std::string& service, const Next& inner,
                              const std::vector<registry::Node>& list) const {
    // Fast path, no lock: nothing is marked anywhere (the normal state).
    if (marked_services_.load(std::memory_order_acquire) == 0) return inner();
    std::shared_ptr<const MarkTable> marks;
    {
      std::lock_guard lock(mu_);
      marks = marks_;  // an immutable snapshot; the lock only guards the pointer copy
    }
    auto sit = marks->find(service);
    if (sit == marks->end()) return inner();
    const TimePoint now = Clock::now();
    auto is_marked = [&](const registry::Node& n) {
      auto it = sit->second.find(n.id);
      return it != sit->second.end() && now < it->second.until;
    };
    std::optional<registry::Node> first;
    for (size_t i = 0; i < list.size(); ++i) {
      auto n = inner();
      if (!n) return n;
      if (!is_marked(*n)) return n;
      if (!first) first = *n;
    }
    // The strategy kept landing on marked nodes: take any node that is not marked, else fail
    // open with what the strategy chose.
    for (const auto& n : list) {
      if (!is_marked(n)) return n;
    }
    return *first;
  }

  // Under mu_.
  void Publish(std::shared_ptr<const MarkTable> next) {
    marked_services_.store(next->size(), std::memory_order_release);
    marks_ = std::move(next);
  }

  SelectorOptions options_;
  std::shared_ptr<Registry> registry_;
  mutable std::mutex mu_;
  std::shared_ptr<const MarkTable> marks_;  // copy on write, under mu_
  std::atomic<size_t> marked_services_{0};  // marks_->size(), readable without the lock
};

}  // namespace

Result<std::shared_ptr<Selector>> NewSelector(SelectorOptions options) {
  if (!options.registry) {
    return errors::BadRequest(error_ids::kSelector, "selector needs a registry");
  }
  return std::shared_ptr<Selector>(std::make_shared<RegistrySelector>(std::move(options)));
}

plugin::Registry<Selector, SelectorOptions>& Selectors() {
  // Built-ins are added on first use, so the linker can never drop them.
  static plugin::Registry<Selector, SelectorOptions>* table = [] {
    auto* t = new plugin::Registry<Selector, SelectorOptions>("selector");
    auto with = [](selector::Strategy (*strategy)()) {
      return [strategy](const SelectorOptions& o) {
        SelectorOptions copy = o;
        if (!copy.strategy) copy.strategy = strategy();
        return NewSelector(std::move(copy));
      };
    };
    t->Register("registry", with(&selector::Random));
    t->Register("random", with(&selector::Random));
    t->Register("roundrobin", with(&selector::RoundRobin));
    return t;
  }();
  return *table;
}

}  // namespace micro
