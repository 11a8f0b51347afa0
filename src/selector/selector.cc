// The registry selector: cache snapshots, filters (cached per snapshot), strategy, and marks
// that take failing nodes out of rotation for a doubling back-off.
#include <micro/selector.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace micro {

std::optional<Result<selector::Next>> Selector::TrySelect(std::string_view, const SelectOptions&) {
  return std::nullopt;
}

void Selector::SelectAsync(std::string_view service, const SelectOptions& options,
                           SelectCallback done) {
  done(Select(service, options));
}

void Selector::Begin(std::string_view, const registry::Node&) {}
void Selector::End(std::string_view, const registry::Node&, const Status&, Duration) {}

namespace {

using registry::SnapshotPtr;
using selector::Next;
using selector::NodeList;

struct MarkInfo {
  TimePoint until;
  int failures = 0;
};
// service -> node id -> mark. Replaced wholesale on each change (copy on write).
using MarkTable = std::map<std::string, std::map<std::string, MarkInfo>, std::less<>>;

// A filtered node list, with the snapshot it came from (whose name its Next functions read).
struct FilteredNodes {
  SnapshotPtr source;
  std::vector<registry::Node> nodes;
};

// Filtered node lists of one service, for one snapshot of it. Immutable once published.
struct FilteredLists {
  SnapshotPtr source;
  std::map<std::string, NodeList, std::less<>> lists;  // by the filters' combined key
};
// Distinct filter combinations remembered per snapshot; more are computed on every Select.
constexpr size_t kMaxFilteredLists = 16;

// Per thread, the last few filtered lists it used, so a Select with filters on a warm cache
// touches no shared lock for them. A keyed filter's result depends only on the snapshot and
// the key, so an entry is good for any selector; its list keeps its snapshot alive, so the
// snapshot's address cannot be reused while the entry exists.
struct FilterMemo {
  const registry::Snapshot* source = nullptr;
  std::string key;
  NodeList list;
};
struct FilterMemos {
  std::array<FilterMemo, 4> entries;
  size_t next = 0;
};
FilterMemos& ThreadFilterMemos() {
  thread_local FilterMemos memos;
  return memos;
}

// Everything Select, Next and the asynchronous callbacks use, apart from the cache. It is
// shared with pending SelectAsync callbacks, so they never keep the cache alive (a cache
// destroyed from one of its own lookup threads could not join it).
class SelectorState {
 public:
  explicit SelectorState(const SelectorOptions& options)
      : strategy_(options.strategy ? options.strategy : selector::Random()),
        mark_backoff_(options.mark_backoff),
        max_mark_backoff_(options.max_mark_backoff),
        marks_(std::make_shared<const MarkTable>()) {}

  // The Next for a cache answer.
  Result<Next> Build(std::string_view service, Result<SnapshotPtr> found,
                     const SelectOptions& options) const {
    if (!found) {
      if (registry::IsNotFound(found.error())) return selector::ErrNotFound(service);
      return std::move(found).error();
    }
    SnapshotPtr snap = std::move(*found);
    // No filters: pick straight from the snapshot's node list (sharing its ownership).
    NodeList list =
        options.filters.empty() ? NodeList(snap, &snap->nodes) : Filtered(snap, options.filters);
    if (list->empty()) return selector::ErrNoneAvailable(service);
    const auto& strategy = options.strategy ? options.strategy : strategy_;
    Next inner = strategy(list);
    // The list keeps the snapshot (and so its name) alive: it aliases it, or (filtered) its
    // owner holds it.
    const std::string* name = &snap->name;
    return Next([this, inner = std::move(inner), list = std::move(list), name]() {
      return Pick(*name, inner, *list);
    });
  }

  void Mark(std::string_view service, const registry::Node& node, const Status& status) {
    std::unique_lock lock(marks_mu_);
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
      Duration backoff = mark_backoff_;
      for (int i = 0; i < m.failures && backoff < max_mark_backoff_; ++i) backoff *= 2;
      m.failures++;
      m.until = Clock::now() + std::min(backoff, max_mark_backoff_);
    }
    Publish(std::move(next));
  }

  void Reset(std::string_view service) {
    std::unique_lock lock(marks_mu_);
    if (marks_->find(service) == marks_->end()) return;
    auto next = std::make_shared<MarkTable>(*marks_);
    next->erase(std::string(service));
    Publish(std::move(next));
  }

 private:
  // The nodes left by the filters. Filters that all have a key run once per snapshot: the
  // result is remembered (by the snapshot and the keys) until the snapshot is replaced.
  NodeList Filtered(const SnapshotPtr& snap, const std::vector<selector::Filter>& filters) const {
    std::string key;
    for (const auto& f : filters) {
      if (f.key().empty()) return Apply(snap, filters);
      if (filters.size() == 1) {
        key = f.key();
      } else {
        key += std::to_string(f.key().size());
        key += ':';
        key += f.key();
      }
    }
    FilterMemos& memos = ThreadFilterMemos();
    for (const FilterMemo& m : memos.entries) {
      if (m.source == snap.get() && m.key == key) return m.list;
    }
    NodeList list = SharedFiltered(snap, filters, key);
    FilterMemo& slot = memos.entries[memos.next++ % memos.entries.size()];
    slot.source = snap.get();
    slot.key = key;
    slot.list = list;
    return list;
  }

  // The filtered list from the table shared by every thread, computed and published there if
  // it is not in it yet.
  NodeList SharedFiltered(const SnapshotPtr& snap, const std::vector<selector::Filter>& filters,
                          std::string key) const {
    {
      std::shared_lock lock(filtered_mu_);
      auto it = filtered_.find(snap->name);
      if (it != filtered_.end() && it->second->source == snap) {
        auto list = it->second->lists.find(key);
        if (list != it->second->lists.end()) return list->second;
      }
    }
    NodeList list = Apply(snap, filters);
    std::unique_lock lock(filtered_mu_);
    auto& slot = filtered_[snap->name];
    if (slot && slot->source == snap) {
      if (slot->lists.size() >= kMaxFilteredLists || slot->lists.count(key)) return list;
      auto next = std::make_shared<FilteredLists>(*slot);
      next->lists.emplace(std::move(key), list);
      slot = std::move(next);
    } else {
      auto next = std::make_shared<FilteredLists>();
      next->source = snap;
      next->lists.emplace(std::move(key), list);
      slot = std::move(next);
    }
    return list;
  }

  static NodeList Apply(const SnapshotPtr& snap, const std::vector<selector::Filter>& filters) {
    std::vector<registry::Service> services = snap->services;
    for (const auto& filter : filters) services = filter(std::move(services));
    auto owner = std::make_shared<FilteredNodes>();
    owner->source = snap;
    for (auto& s : services) {
      for (auto& n : s.nodes) owner->nodes.push_back(std::move(n));
    }
    return NodeList(owner, &owner->nodes);
  }

  Result<const registry::Node*> Pick(const std::string& service, const Next& inner,
                                     const std::vector<registry::Node>& list) const {
    // Fast path, no lock: nothing is marked anywhere (the normal state).
    if (marked_services_.load(std::memory_order_acquire) == 0) return inner();
    std::shared_ptr<const MarkTable> marks;
    {
      std::shared_lock lock(marks_mu_);
      marks = marks_;  // an immutable snapshot; the lock only guards the pointer copy
    }
    auto sit = marks->find(service);
    if (sit == marks->end()) return inner();
    const TimePoint now = Clock::now();
    auto is_marked = [&](const registry::Node& n) {
      auto it = sit->second.find(n.id);
      return it != sit->second.end() && now < it->second.until;
    };
    const registry::Node* first = nullptr;
    for (size_t i = 0; i < list.size(); ++i) {
      auto n = inner();
      if (!n) return n;
      if (!is_marked(**n)) return n;
      if (!first) first = *n;
    }
    // The strategy kept landing on marked nodes: take any node that is not marked, else fail
    // open with what the strategy chose.
    for (const auto& n : list) {
      if (!is_marked(n)) return &n;
    }
    return first;
  }

  // Under marks_mu_ (exclusive).
  void Publish(std::shared_ptr<const MarkTable> next) {
    marked_services_.store(next->size(), std::memory_order_release);
    marks_ = std::move(next);
  }

  const selector::Strategy strategy_;
  const Duration mark_backoff_;
  const Duration max_mark_backoff_;

  mutable std::shared_mutex filtered_mu_;
  mutable std::map<std::string, std::shared_ptr<const FilteredLists>, std::less<>> filtered_;

  mutable std::shared_mutex marks_mu_;
  std::shared_ptr<const MarkTable> marks_;  // copy on write, under marks_mu_
  std::atomic<size_t> marked_services_{0};  // marks_->size(), readable without the lock
};

std::shared_ptr<RegistryCache> CacheFor(const SelectorOptions& o) {
  if (!o.use_cache) {
    return *NewCache(
        o.registry,
        {.ttl = Duration::zero(), .min_retry_interval = Duration::zero(), .watch = false});
  }
  if (auto shared = std::dynamic_pointer_cast<RegistryCache>(o.registry)) return shared;
  return *NewCache(o.registry, o.cache);
}

class RegistrySelector final : public Selector {
 public:
  explicit RegistrySelector(const SelectorOptions& options)
      : cache_(CacheFor(options)), state_(std::make_shared<SelectorState>(options)) {}

  Result<Next> Select(std::string_view service, const SelectOptions& options) override {
    return state_->Build(service, cache_->Lookup(service), options);
  }

  std::optional<Result<Next>> TrySelect(std::string_view service,
                                        const SelectOptions& options) override {
    SnapshotPtr snap = cache_->Peek(service);
    if (!snap) return std::nullopt;
    return state_->Build(service, std::move(snap), options);
  }

  void SelectAsync(std::string_view service, const SelectOptions& options,
                   SelectCallback done) override {
    cache_->LookupAsync(service, [state = state_, name = std::string(service), options,
                                  done = std::move(done)](Result<SnapshotPtr> found) {
      done(state->Build(name, std::move(found), options));
    });
  }

  void Mark(std::string_view service, const registry::Node& node, const Status& status) override {
    state_->Mark(service, node, status);
  }
  void Reset(std::string_view service) override { state_->Reset(service); }
  std::string String() const override { return "registry"; }

 private:
  const std::shared_ptr<RegistryCache> cache_;
  const std::shared_ptr<SelectorState> state_;
};

}  // namespace

Result<std::shared_ptr<Selector>> NewSelector(SelectorOptions options) {
  if (!options.registry) {
    return errors::BadRequest(error_ids::kSelector, "selector needs a registry");
  }
  return std::shared_ptr<Selector>(std::make_shared<RegistrySelector>(options));
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
    t->Register("p2c", [](const SelectorOptions& o) { return NewP2CSelector(o); });
    return t;
  }();
  return *table;
}

}  // namespace micro
