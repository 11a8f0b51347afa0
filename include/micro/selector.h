// Node selection: which node of a service the client calls next.
//
//   auto sel = micro::NewSelector({.registry = reg});                  // random over a cache
//   auto next = sel->Select("greeter", {.filters = {micro::selector::FilterVersion("1.0.0")}});
//   if (!next) return next.error();                                     // 404 / 500, see below
//   micro::Result<micro::registry::Node> node = (*next)();              // call as often as needed
//   ... call node->address ...; on a connection failure: sel->Mark("greeter", *node, err);
//
// Select looks the service up through the registry cache (go-micro's registry selector), applies
// the filters, and returns a Next function over the surviving nodes using the strategy: Random
// (default) or RoundRobin. Unlike go-micro (whose Mark/Reset do nothing), Mark with an error
// takes the node out of rotation for a back-off period that doubles with each consecutive
// failure (base..max); Mark with an ok Status clears it; Reset(service) clears every mark of a
// service. When every node is marked, Next ignores the marks rather than fail (a blip on all
// nodes must not take the service down).
//
// Errors: the service is unknown -> 404 "service <name>: not found" (id "go.micro.selector");
// nothing left after the filters -> 500 "service <name>: none available".
// Threading: every method and every Next may be called from any thread; node lists are
// immutable snapshots shared between Next functions. Next takes no lock while no node of any
// service is marked; otherwise it copies the (immutable, copy-on-write) mark table's pointer
// under a mutex held for that copy only.
#pragma once

#include <micro/plugin.h>
#include <micro/registry.h>
#include <micro/status.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace micro {
namespace selector {

// Returns a node each call (Random: independent picks; RoundRobin: in turn).
using Next = std::function<Result<registry::Node>()>;
// Narrows the services (one per version) a Select sees.
using Filter = std::function<std::vector<registry::Service>(std::vector<registry::Service>)>;
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
  std::shared_ptr<Registry> registry{};  // required (the service normally passes its registry)
  selector::Strategy strategy{};         // empty = Random()
  CacheOptions cache{};                  // the registry cache in front of `registry`
  bool use_cache = true;                 // false: every Select asks the registry
  Duration mark_backoff = std::chrono::seconds(1);       // first back-off after a failure
  Duration max_mark_backoff = std::chrono::seconds(60);  // cap of the doubling
};

struct SelectOptions {
  std::vector<selector::Filter> filters{};
  selector::Strategy strategy{};  // empty = the selector's
};

class Selector {
 public:
  virtual ~Selector() = default;
  virtual Result<selector::Next> Select(std::string_view service, const SelectOptions& options) = 0;
  Result<selector::Next> Select(std::string_view service) { return Select(service, {}); }
  // Reports the outcome of a call to node: an error marks it, ok clears its mark.
  virtual void Mark(std::string_view service, const registry::Node& node, const Status& status) = 0;
  virtual void Reset(std::string_view service) = 0;
  virtual std::string String() const = 0;  // "registry"
};

// go-micro's registry selector, with working Mark/Reset. Fails (400) without a registry.
Result<std::shared_ptr<Selector>> NewSelector(SelectorOptions options);

// Named factories: "registry" and "random" (random strategy), "roundrobin".
plugin::Registry<Selector, SelectorOptions>& Selectors();

}  // namespace micro
