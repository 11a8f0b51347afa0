// Node selection: which node of a service the client calls next.
//
//   auto sel = micro::NewSelector({.registry = reg});                  // random over a cache
//   auto next = sel->Select("greeter", {.filters = {micro::selector::FilterVersion("1.0.0")}});
//   if (!next) return next.error();                                     // 404 / 500, see below
//   micro::Result<const micro::registry::Node*> node = (*next)();       // call as often as needed
//   ... call node->address ...; on a connection failure: sel->Mark("greeter", **node, err);
//
// Select looks the service up through the registry cache (go-micro's registry selector), applies
// the filters, and returns a Next function over the surviving nodes using the strategy: Random
// (default) or RoundRobin. Unlike go-micro (whose Mark/Reset do nothing), Mark with an error
// takes the node out of rotation for a back-off period that doubles with each consecutive
// failure (base..max); Mark with an ok Status clears it; Reset(service) clears every mark of a
// service. When every node is marked, Next ignores the marks rather than fail (a blip on all
// nodes must not take the service down).
//
// Snapshots: the cache holds each service as an immutable snapshot (registry::Snapshot),
// replaced when a watch event arrives or a lookup refreshes it. Select copies no service list:
// with no filters, Next picks straight from the snapshot's node list; filters with a key (the
// built-in ones) run once per snapshot and their result is reused until the snapshot changes;
// filters without a key run on every Select (on a copy of the services).
//
// Three ways to select, one answer:
//   Select       may wait for a registry lookup on a miss: not for I/O threads.
//   TrySelect    never waits: the answer when the cache can give it now, std::nullopt on a miss.
//   SelectAsync  never waits: `done` runs inline when the cache has the service, otherwise on a
//                cache thread once the lookup finishes; concurrent misses for one service share
//                one registry lookup. The client's coroutine path uses TrySelect, then
//                SelectAsync, so a miss suspends the call instead of blocking its I/O thread.
//
// Errors: the service is unknown -> 404 "service <name>: not found" (id "go.micro.selector");
// nothing left after the filters -> 500 "service <name>: none available".
// Threading: every method and every Next may be called from any thread. Select and Next take no
// exclusive lock: Select copies the snapshot's pointer under a shared lock; Next takes no lock
// while no node of any service is marked, otherwise a shared lock to copy the (immutable,
// copy-on-write) mark table's pointer. A Next must not outlive its selector.
#pragma once

#include <micro/plugin.h>
#include <micro/registry.h>
#include <micro/status.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace micro {
namespace selector {

// Returns a node each call (Random: independent picks; RoundRobin: in turn), as go-micro's
// Next returns a *registry.Node: the node is not copied. It lives in the snapshot the Next
// holds, so the pointer stays valid for as long as the Next does; copy the node to keep it
// longer.
using Next = std::function<Result<const registry::Node*>()>;
// Narrows the services (one per version) a Select sees: any callable taking and returning
// std::vector<registry::Service>. A filter with a key is a pure function of the services and
// its key (same key, same result): its result is computed once per snapshot and reused. A
// filter without a key (a plain lambda) runs on every Select.
class Filter {
 public:
  using Function = std::function<std::vector<registry::Service>(std::vector<registry::Service>)>;
  Filter() = default;
  template <class F>
  requires std::is_constructible_v<Function, F> &&
      (!std::is_same_v<std::remove_cvref_t<F>, Filter>)Filter(F f)
      : fn_(std::move(f)) {}  // NOLINT(google-explicit-constructor): a lambda is a filter
  Filter(std::string key, Function fn) : key_(std::move(key)), fn_(std::move(fn)) {}

  std::vector<registry::Service> operator()(std::vector<registry::Service> services) const {
    return fn_(std::move(services));
  }
  explicit operator bool() const { return static_cast<bool>(fn_); }
  const std::string& key() const { return key_; }  // empty: not cacheable

 private:
  std::string key_;
  Function fn_;
};

// Builds a Next over a snapshot of nodes. The snapshot is never empty.
using NodeList = std::shared_ptr<const std::vector<registry::Node>>;
using Strategy = std::function<Next(NodeList nodes)>;

Strategy Random();      // uniform, independent picks (the default)
Strategy RoundRobin();  // random start, then in order; each Next has its own position

// Versions listing the endpoint (e.g. "Greeter.Hello").
Filter FilterEndpoint(std::string name);
// Nodes whose metadata[key] == value; versions left without nodes are dropped.
Filter FilterLabel(std::string key, std::string value);
Filter FilterVersion(std::string version);

Error ErrNotFound(std::string_view service);
Error ErrNoneAvailable(std::string_view service);

}  // namespace selector

struct SelectorOptions {
  // Required. A RegistryCache (NewCache) is used as it is, shared with whoever else reads it
  // (a Service passes the one cache its client and broker share); any other registry gets a
  // cache of the selector's own, made with `cache`.
  std::shared_ptr<Registry> registry{};
  selector::Strategy strategy{};  // empty = Random()
  CacheOptions cache{};           // the selector's own cache, when `registry` is not one
  // false: every Select asks the registry (through a cache with ttl 0 and no watch, so
  // concurrent Selects of one service still share one lookup and SelectAsync never waits).
  bool use_cache = true;
  Duration mark_backoff = std::chrono::seconds(1);       // first back-off after a failure
  Duration max_mark_backoff = std::chrono::seconds(60);  // cap of the doubling
};

struct SelectOptions {
  std::vector<selector::Filter> filters{};
  selector::Strategy strategy{};  // empty = the selector's
};

class Selector {
 public:
  using SelectCallback = std::function<void(Result<selector::Next>)>;

  virtual ~Selector() = default;
  // May wait for a registry lookup (a cache miss): not for I/O threads.
  virtual Result<selector::Next> Select(std::string_view service, const SelectOptions& options) = 0;
  Result<selector::Next> Select(std::string_view service) { return Select(service, {}); }
  // Never waits: the answer when it is at hand, std::nullopt when a lookup would be needed.
  // Default: std::nullopt (a selector that cannot tell).
  virtual std::optional<Result<selector::Next>> TrySelect(std::string_view service,
                                                          const SelectOptions& options);
  // Calls `done` exactly once with what Select would return. Never waits in the registry
  // selector (see the top of this file). Default: runs Select inline, which waits if Select
  // does: a selector whose Select can block should override it.
  virtual void SelectAsync(std::string_view service, const SelectOptions& options,
                           SelectCallback done);
  // Reports the outcome of a call to node: an error marks it, ok clears its mark.
  virtual void Mark(std::string_view service, const registry::Node& node, const Status& status) = 0;
  virtual void Reset(std::string_view service) = 0;
  virtual std::string String() const = 0;  // "registry"

  // Load feedback, for latency-aware selectors (p2c). The client calls Begin when an attempt on
  // node starts and End when it finishes, with its outcome and how long it took, then Mark. A
  // caller that Begins an attempt must End it. Defaults: nothing.
  virtual void Begin(std::string_view service, const registry::Node& node);
  virtual void End(std::string_view service, const registry::Node& node, const Status& status,
                   Duration latency);
};

// go-micro's registry selector, with working Mark/Reset. Fails (400) without a registry.
Result<std::shared_ptr<Selector>> NewSelector(SelectorOptions options);

// Latency-aware selection ("p2c", power of two choices; not in go-micro): the registry selector
// (cache, filters, marks) whose strategy draws two distinct nodes at random and takes the one
// with the lower cost = latency EWMA x (calls in flight + 1). The client feeds it through
// Begin/End: each attempt's latency enters a time-weighted EWMA (time constant `decay`); a
// failed attempt (408, 5xx) counts as `failure_penalty` and is marked as in the registry
// selector. A node's EWMA fades towards zero while it gets no calls (time constant
// `idle_decay`), so a node once slow is probed again. Nodes without samples cost least, so new
// nodes get traffic at once. SelectOptions::strategy still replaces the strategy per call.
struct P2COptions {
  Duration decay = std::chrono::milliseconds(100);
  Duration idle_decay = std::chrono::milliseconds(250);
  Duration failure_penalty = std::chrono::seconds(1);
};
Result<std::shared_ptr<Selector>> NewP2CSelector(SelectorOptions options, P2COptions p2c = {});

// Named factories: "registry" and "random" (random strategy), "roundrobin", "p2c".
plugin::Registry<Selector, SelectorOptions>& Selectors();

}  // namespace micro
