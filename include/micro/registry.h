// Service discovery: the Registry interface, go-micro's registry types and their JSON forms.
//
//   auto reg = micro::Registries().Create("mdns", {.addrs = {"lo"}});   // or "memory"
//   micro::registry::Service svc{.name = "greeter", .version = "1.0.0",
//                                .nodes = {{.id = "greeter-1", .address = "127.0.0.1:8080"}}};
//   (*reg)->Register(svc, {.ttl = std::chrono::seconds(90)});
//   auto found = (*reg)->GetService("greeter");   // Result<std::vector<Service>>, one per version
//
// Built-in implementations: "memory" (in-process, TTL expiry) and "mdns" (the default,
// go-micro's multicast DNS encoding, domain `micro`). NewCache() wraps any registry with
// go-micro's lookup cache, which hands out immutable per-service snapshots (the selector and
// the http broker read through it).
//
// Errors: GetService of an unknown service is ErrNotFound() (404, detail "service not found"),
// except for mdns, which answers an empty list as go-micro's mdns registry does (a lookup that
// hears no answer); callers treat an empty list as not found (RegistryCache and the selector
// turn it into ErrNotFound);
// a Watcher that was stopped returns ErrWatcherStopped(); Next() past its timeout returns a 408.
// Threading: every Registry and Watcher method may be called from any thread, concurrently.
// Ownership: registries are shared (std::shared_ptr); a Watcher is owned by its caller and may
// outlive its registry (Next then returns ErrWatcherStopped()).
#pragma once

#include <micro/context.h>
#include <micro/plugin.h>
#include <micro/status.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace micro {
namespace registry {

using StringMap = std::map<std::string, std::string>;

// A request or response type: go-micro's registry.Value {"name","type","values"}.
struct Value {
  std::string name{};
  std::string type{};
  std::vector<Value> values{};  // fields; empty serialises as null (Go's nil slice)
  friend bool operator==(const Value&, const Value&) = default;
};

// go-micro's registry.Endpoint {"request","response","metadata","name"}.
struct Endpoint {
  std::string name{};  // e.g. "Greeter.Hello"
  std::optional<Value> request{};
  std::optional<Value> response{};
  StringMap metadata{};
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// go-micro's registry.Node {"metadata","id","address"}; address is "host:port".
struct Node {
  std::string id{};
  std::string address{};
  StringMap metadata{};
  friend bool operator==(const Node&, const Node&) = default;
};

// go-micro's registry.Service {"name","version","metadata","endpoints","nodes"}.
struct Service {
  std::string name{};
  std::string version{};
  StringMap metadata{};
  std::vector<Endpoint> endpoints{};
  std::vector<Node> nodes{};
  friend bool operator==(const Service&, const Service&) = default;
};

// JSON exactly as Go's json.Marshal writes these structs (field order, sorted map keys, empty
// lists as null, empty maps as {}, Go string escaping).
std::string ToJson(const Service& service);
std::string ToJson(const Node& node);
std::string ToJson(const Endpoint& endpoint);
std::string ToJson(const Value& value);
// Parses go-micro JSON; null or missing lists/maps/values are accepted (as empty). Keys are
// matched case-insensitively, as Go does. Malformed input is a 400 Error. Never throws.
Result<Service> ServiceFromJson(std::string_view json);
Result<Node> NodeFromJson(std::string_view json);

enum class EventType { kCreate, kUpdate, kDelete, kOverride };
// "create", "update", "delete", "override" (go-micro's Result.Action strings).
std::string_view ToString(EventType type);
std::optional<EventType> ParseEventType(std::string_view text);

// One change seen by a Watcher: go-micro's registry.Result {Action, Service}.
struct Event {
  EventType type = EventType::kCreate;
  Service service{};  // the nodes that changed (create/update: added or refreshed; delete: gone)
  std::chrono::system_clock::time_point timestamp{};
};

// A stream of Events. Next blocks up to `timeout` (408 Error on timeout); after Stop() (or when
// the registry goes away) it returns ErrWatcherStopped(). Events are buffered (a bounded queue;
// the oldest are dropped when a slow reader lets it fill).
class Watcher {
 public:
  virtual ~Watcher() = default;
  virtual Result<Event> Next(Duration timeout) = 0;
  virtual void Stop() = 0;
};

Error ErrNotFound();        // 404 "go.micro.registry" "service not found"
Error ErrWatcherStopped();  // 499 "go.micro.registry" "watcher stopped"
bool IsNotFound(const Error& e);
bool IsWatcherStopped(const Error& e);

}  // namespace registry

struct RegistryOptions {
  // Where the registry lives. memory: ignored. mdns: interfaces to pin discovery to, each an
  // IPv4 address ("127.0.0.1") or an interface name ("lo"), or a comma-separated list of them;
  // empty = MICRO_REGISTRY_ADDRESS if set, else the kernel's default multicast route.
  // (The service fills addrs from --registry_address / MICRO_REGISTRY_ADDRESS.)
  std::vector<std::string> addrs{};
  // Lookup timeout. mdns: how long GetService/ListServices collect answers (go-micro: 100 ms).
  Duration timeout = std::chrono::milliseconds(100);
  bool secure = false;
  // Implementation-specific settings, e.g. "mdns.domain" (default "micro"), "mdns.port"
  // (default 5353), "mdns.hostname" (default: the OS host name).
  std::map<std::string, std::string> params{};
};

struct RegisterOptions {
  // memory: nodes not re-registered within ttl are removed (0 = never). mdns: unused (records
  // always carry go-micro's 120 s TTL; liveness is goodbye packets), as in go-micro.
  Duration ttl{0};
};

struct WatchOptions {
  std::string service{};  // only this service's events; empty = all services
};

class Registry {
 public:
  virtual ~Registry() = default;
  // Adds or refreshes the service's nodes (one version per call).
  virtual Status Register(const registry::Service& service, const RegisterOptions& options) = 0;
  Status Register(const registry::Service& service) { return Register(service, {}); }
  // Removes the given nodes (and the version/service once it has no nodes left).
  virtual Status Deregister(const registry::Service& service) = 0;
  // One Service per version, or ErrNotFound() (mdns: an empty list).
  virtual Result<std::vector<registry::Service>> GetService(std::string_view name) = 0;
  // Every known service (name and version; nodes may be omitted).
  virtual Result<std::vector<registry::Service>> ListServices() = 0;
  virtual Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) = 0;
  Result<std::unique_ptr<registry::Watcher>> Watch() { return Watch(WatchOptions{}); }
  virtual std::string String() const = 0;  // "memory", "mdns", ...
};

// The named factory table ("memory", "mdns", plus linked plugins).
plugin::Registry<Registry, RegistryOptions>& Registries();

Result<std::shared_ptr<Registry>> NewMemoryRegistry(RegistryOptions options = {});
// Opens the mDNS sockets; fails (500) if no socket can be bound or an interface is unknown.
Result<std::shared_ptr<Registry>> NewMdnsRegistry(RegistryOptions options = {});

struct CacheOptions {
  Duration ttl = std::chrono::minutes(1);                 // how long a lookup stays fresh
  Duration min_retry_interval = std::chrono::seconds(5);  // stale data served meanwhile
  bool watch = true;                                      // keep cached services up to date
};

namespace registry {

// One service as a RegistryCache holds it. Immutable once published and shared by every
// reader (hold it as long as you like); a watch event or a refresh publishes a new Snapshot,
// it never changes one.
struct Snapshot {
  std::string name{};
  std::vector<Service> services{};  // one per version, as GetService returns them
  std::vector<Node> nodes{};        // every version's nodes, flattened in version order
};
using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace registry

// go-micro's registry cache (registry/cache): GetService answers from memory while fresh, one
// lookup per service in flight, stale data when the registry fails, watch-driven updates.
// Every other Registry call goes straight to the inner registry.
//
// Besides the Registry interface (whose GetService copies the cached services out), a cache
// hands out its immutable snapshots without copying:
//  - Peek never waits: the snapshot when the cache can answer without asking the registry
//    (fresh, or stale within min_retry_interval of the last attempt); nullptr otherwise.
//  - Lookup: Peek, else asks the registry and waits (not for I/O threads).
//  - LookupAsync never waits: when Peek has the answer, `done` runs before LookupAsync
//    returns, on the calling thread; otherwise the lookup runs on a thread of the cache and
//    `done` runs there once it finishes (keep it short; post to your executor).
// Concurrent misses for one service, sync or async, share ONE registry lookup (single flight).
// Errors: unknown service -> registry::ErrNotFound() (not cached: the next call asks again);
// a registry failure with nothing cached -> the registry's error.
// Threading: every method may be called from any thread. Readers take a shared lock on the
// service table, never an exclusive one; only storing a lookup or a watch event does.
// Lifetime: the destructor stops the watch thread and waits for lookups in flight (whose
// callbacks still run). Threads: one watch thread (after the first lookup, if options.watch),
// plus one short-lived thread per service being looked up asynchronously.
class RegistryCache : public Registry {
 public:
  using LookupCallback = std::function<void(Result<registry::SnapshotPtr>)>;
  virtual registry::SnapshotPtr Peek(std::string_view name) = 0;
  virtual Result<registry::SnapshotPtr> Lookup(std::string_view name) = 0;
  virtual void LookupAsync(std::string_view name, LookupCallback done) = 0;
};

// Wraps `inner` with a cache. A Service makes one and shares it between its client's selector
// and its broker.
// Fails (400) without an inner registry.
Result<std::shared_ptr<RegistryCache>> NewCache(std::shared_ptr<Registry> inner,
                                                CacheOptions options = {});

}  // namespace micro
