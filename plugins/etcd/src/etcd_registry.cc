// The etcd registry (see micro/etcd/etcd.h).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>

#include "gateway.h"
#include "micro/etcd/etcd.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "micro/plugin/watch.h"

namespace micro::etcd {
namespace {

using etcd_detail::Base64Decode;
using etcd_detail::Base64Encode;
using etcd_detail::Gateway;
using etcd_detail::Int;
using etcd_detail::Json;
using etcd_detail::PrefixEnd;

constexpr std::string_view kErrorId = error_ids::kRegistry;
constexpr std::string_view kPrefix = "/micro/registry/";

std::string Sanitise(std::string s) {
  for (char& c : s) {
    if (c == '/') c = '-';
  }
  return s;
}

std::string NodeKey(const std::string& service, const std::string& node) {
  return std::string(kPrefix) + Sanitise(service) + "/" + Sanitise(node);
}
std::string ServicePrefix(const std::string& service) {
  return std::string(kPrefix) + Sanitise(service) + "/";
}

std::vector<std::string> SplitEndpoints(const std::vector<std::string>& addrs, bool* secure) {
  return plugin::SplitHttpEndpoints(addrs, "2379", secure);
}

std::string Param(const RegistryOptions& o, const std::string& key, const char* env = nullptr) {
  return plugin::ParamOrEnv(o.params, key, env);
}

// The service of a key, for a DELETE without its previous value: name and node id only.
registry::Service FromKey(std::string_view key) {
  registry::Service s;
  key.remove_prefix(std::min(key.size(), kPrefix.size()));
  const auto slash = key.find('/');
  s.name = std::string(key.substr(0, slash));
  if (slash != std::string_view::npos)
    s.nodes.push_back({.id = std::string(key.substr(slash + 1))});
  return s;
}

Result<registry::Service> DecodeValue(const Json& kv) {
  std::string value;
  if (!kv.is_object() || !kv.contains("value") || !kv["value"].is_string() ||
      !Base64Decode(kv["value"].get<std::string>(), &value)) {
    return errors::InternalServerError(std::string(kErrorId), "etcd: key without a valid value");
  }
  return registry::ServiceFromJson(value);
}

// Watch state shared by the watch coroutine, the Watcher and the registry.
struct WatchState {
  std::shared_ptr<plugin::WatchQueue> queue;
  Context ctx;  // cancelled by Stop / registry destruction
};

struct Shared {
  std::shared_ptr<plugin::IoThread> io;
  std::unique_ptr<Gateway> gateway;
};

struct NodeRecord {
  std::string value;  // the JSON written
  int64_t lease = 0;
  int64_t ttl = 0;
};

// One watcher's loop: stream, turn events into registry events, reconnect and resume.
asio::awaitable<void> WatchLoop(std::shared_ptr<Shared> shared, std::shared_ptr<WatchState> w,
                                std::string prefix, int64_t next_revision) {
  Gateway& gw = *shared->gateway;
  auto backoff = std::chrono::milliseconds(100);
  asio::steady_timer timer(gw.executor());
  while (!w->ctx.cancelled()) {
    Json create = {{"key", Base64Encode(prefix)},
                   {"range_end", Base64Encode(PrefixEnd(prefix))},
                   {"prev_kv", true}};
    if (next_revision > 0) create["start_revision"] = std::to_string(next_revision);
    Json request = {{"create_request", std::move(create)}};
    bool restart = false;
    std::function<bool(const Json&)> on_line = [&](const Json& line) {
      if (line.contains("error")) {
        log::Warn("etcd registry: watch error: {}", line["error"].dump());
        return false;
      }
      const Json& result = line.contains("result") ? line["result"] : line;
      if (result.value("canceled", false)) {
        // Compacted past our revision: resume from the oldest one still there.
        if (const int64_t compact = Int(result, "compact_revision"); compact > 0) {
          next_revision = compact;
        }
        restart = true;
        return false;
      }
      if (result.value("created", false)) {
        backoff = std::chrono::milliseconds(100);
        if (next_revision == 0 && result.contains("header")) {
          next_revision = Int(result["header"], "revision") + 1;
        }
      }
      if (!result.contains("events")) return true;
      for (const Json& ev : result["events"]) {
        const Json& kv = ev.contains("kv") ? ev["kv"] : Json::object();
        next_revision = std::max(next_revision, Int(kv, "mod_revision") + 1);
        registry::Event out;
        out.timestamp = std::chrono::system_clock::now();
        if (ev.value("type", std::string("PUT")) == "DELETE") {
          out.type = registry::EventType::kDelete;
          Result<registry::Service> svc = ev.contains("prev_kv")
                                              ? DecodeValue(ev["prev_kv"])
                                              : Result<registry::Service>(errors::NotFound("", ""));
          if (svc) {
            out.service = std::move(*svc);
          } else {
            std::string key;
            if (kv.contains("key")) Base64Decode(kv["key"].get<std::string>(), &key);
            out.service = FromKey(key);
          }
        } else {
          auto svc = DecodeValue(kv);
          if (!svc) continue;
          out.type = Int(kv, "create_revision") == Int(kv, "mod_revision")
                         ? registry::EventType::kCreate
                         : registry::EventType::kUpdate;
          out.service = std::move(*svc);
        }
        if (w->queue->Wants(out.service.name)) w->queue->Push(std::move(out));
      }
      return !w->queue->stopped();
    };
    Status st = co_await gw.Watch(std::move(request), w->ctx, std::move(on_line));
    if (w->ctx.cancelled() || w->queue->stopped()) break;
    if (!st.ok()) log::Debug("etcd registry: watch ended: {}", st.error().detail);
    if (!restart) {
      timer.expires_after(backoff);
      auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      (void)ec;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(1));
      if (w->ctx.cancelled()) break;
      co_await gw.Rotate();
    }
  }
  w->queue->Stop();
}

class EtcdRegistry final : public Registry {
 public:
  explicit EtcdRegistry(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  ~EtcdRegistry() override { watches_.StopAll(); }

  Status Register(const registry::Service& service, const RegisterOptions& options) override {
    if (service.nodes.empty()) {
      return errors::BadRequest(std::string(kErrorId), "etcd: require at least one node");
    }
    int64_t ttl = 0;
    if (options.ttl > Duration::zero()) {
      const double secs = std::chrono::duration<double>(options.ttl).count();
      ttl = std::max<int64_t>(2, static_cast<int64_t>(std::ceil(secs)));
    }
    for (const auto& node : service.nodes) {
      registry::Service one = service;
      one.nodes = {node};
      if (Status st = RegisterNode(NodeKey(service.name, node.id), registry::ToJson(one), ttl);
          !st) {
        return st;
      }
    }
    return {};
  }

  Status Deregister(const registry::Service& service) override {
    for (const auto& node : service.nodes) {
      const std::string key = NodeKey(service.name, node.id);
      NodeRecord old;
      {
        std::lock_guard lock(mu_);
        if (auto it = nodes_.find(key); it != nodes_.end()) {
          old = it->second;
          nodes_.erase(it);
        }
      }
      auto r = Gw().PostSync("/v3/kv/deleterange", {{"key", Base64Encode(key)}});
      if (!r) return std::move(r).error();
      if (old.lease != 0) {
        (void)Gw().PostSync("/v3/lease/revoke", {{"ID", std::to_string(old.lease)}});
      }
    }
    return {};
  }

  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    auto r = Range(ServicePrefix(std::string(name)));
    if (!r) return std::move(r).error();
    std::vector<registry::Service> out;
    for (auto& s : *r) {
      if (s.name != name) continue;
      Merge(out, std::move(s));
    }
    if (out.empty()) return registry::ErrNotFound();
    return out;
  }

  Result<std::vector<registry::Service>> ListServices() override {
    auto r = Range(std::string(kPrefix));
    if (!r) return std::move(r).error();
    std::vector<registry::Service> out;
    for (auto& s : *r) Merge(out, std::move(s));
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto w = std::make_shared<WatchState>();
    w->queue = std::make_shared<plugin::WatchQueue>(options.service);
    watches_.Add(w);
    const std::string prefix =
        options.service.empty() ? std::string(kPrefix) : ServicePrefix(options.service);
    // Events from the revision after now: nothing written once Watch returned is missed, even
    // before the stream is set up. (etcd unreachable: from whenever the stream starts.)
    int64_t from = 0;
    auto now = Gw().PostSync("/v3/kv/range", {{"key", Base64Encode(prefix)}, {"count_only", true}});
    if (now && now->contains("header")) from = Int((*now)["header"], "revision") + 1;
    asio::co_spawn(shared_->gateway->executor(), WatchLoop(shared_, w, prefix, from),
                   asio::detached);
    auto stop = [w] {
      w->ctx.Cancel();
      w->queue->Stop();
    };
    return std::unique_ptr<registry::Watcher>(
        std::make_unique<plugin::QueueWatcher>(w->queue, std::move(stop)));
  }

  std::string String() const override { return "etcd"; }

 private:
  Gateway& Gw() { return *shared_->gateway; }

  Status RegisterNode(const std::string& key, const std::string& value, int64_t ttl) {
    NodeRecord rec;
    bool known = false;
    {
      std::lock_guard lock(mu_);
      if (auto it = nodes_.find(key); it != nodes_.end()) {
        rec = it->second;
        known = true;
      }
    }
    int64_t lease = 0;
    if (known && rec.ttl == ttl) {
      if (ttl > 0) {
        // Re-register = keep-alive. No TTL in the answer: the lease is gone.
        auto ka = Gw().PostSync("/v3/lease/keepalive", {{"ID", std::to_string(rec.lease)}});
        if (!ka) return std::move(ka).error();
        const Json& res = ka->contains("result") ? (*ka)["result"] : *ka;
        if (Int(res, "TTL") > 0) lease = rec.lease;
      } else {
        auto r = Gw().PostSync("/v3/kv/range", {{"key", Base64Encode(key)}, {"count_only", true}});
        if (!r) return std::move(r).error();
        if (rec.value == value && Int(*r, "count") > 0) return {};
      }
      if (lease != 0 && rec.value == value) return {};  // unchanged and alive
    }
    if (ttl > 0 && lease == 0) {
      auto g = Gw().PostSync("/v3/lease/grant", {{"TTL", std::to_string(ttl)}});
      if (!g) return std::move(g).error();
      lease = Int(*g, "ID");
      if (lease == 0) {
        return errors::InternalServerError(std::string(kErrorId), "etcd: lease grant: {}",
                                           g->dump());
      }
    }
    Json put = {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
    if (lease != 0) put["lease"] = std::to_string(lease);
    auto p = Gw().PostSync("/v3/kv/put", put);
    if (!p) return std::move(p).error();
    if (known && rec.lease != 0 && rec.lease != lease) {
      (void)Gw().PostSync("/v3/lease/revoke", {{"ID", std::to_string(rec.lease)}});
    }
    std::lock_guard lock(mu_);
    nodes_[key] = NodeRecord{value, lease, ttl};
    return {};
  }

  // Every service value under prefix (one node each).
  Result<std::vector<registry::Service>> Range(const std::string& prefix) {
    auto r = Gw().PostSync("/v3/kv/range", {{"key", Base64Encode(prefix)},
                                            {"range_end", Base64Encode(PrefixEnd(prefix))},
                                            {"serializable", true}});
    if (!r) return std::move(r).error();
    std::vector<registry::Service> out;
    if (!r->contains("kvs")) return out;
    for (const Json& kv : (*r)["kvs"]) {
      auto s = DecodeValue(kv);
      if (s) out.push_back(std::move(*s));
    }
    return out;
  }

  // Adds s's nodes to the entry of its name and version.
  static void Merge(std::vector<registry::Service>& out, registry::Service s) {
    for (auto& have : out) {
      if (have.name == s.name && have.version == s.version) {
        for (auto& n : s.nodes) have.nodes.push_back(std::move(n));
        return;
      }
    }
    out.push_back(std::move(s));
  }

  std::shared_ptr<Shared> shared_;
  std::mutex mu_;
  std::map<std::string, NodeRecord> nodes_;
  plugin::WatchList<WatchState> watches_;
};

}  // namespace

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options) {
  etcd_detail::GatewayOptions g;
  g.secure = options.secure;
  auto addrs = options.addrs;
  if (addrs.empty()) {
    if (const char* env = std::getenv("MICRO_REGISTRY_ADDRESS"); env && *env) addrs = {env};
  }
  if (addrs.empty()) addrs = {"127.0.0.1:2379"};
  g.endpoints = SplitEndpoints(addrs, &g.secure);
  if (g.endpoints.empty()) {
    return errors::BadRequest(std::string(kErrorId), "etcd: no endpoint in registry address");
  }
  g.username = Param(options, "etcd.username", "ETCD_USERNAME");
  g.password = Param(options, "etcd.password", "ETCD_PASSWORD");
  if (auto t = Param(options, "etcd.timeout_ms"); !t.empty()) {
    char* end = nullptr;
    const long ms = std::strtol(t.c_str(), &end, 10);
    if (!end || *end || ms <= 0) {
      return errors::BadRequest(std::string(kErrorId), "etcd: bad etcd.timeout_ms {}", t);
    }
    g.timeout = std::chrono::milliseconds(ms);
  }
  g.tls.ca_file = Param(options, "etcd.ca_file");
  g.tls.cert_file = Param(options, "etcd.cert_file");
  g.tls.key_file = Param(options, "etcd.key_file");
  g.tls.insecure_skip_verify = Param(options, "etcd.insecure_skip_verify") == "true";
  auto shared = std::make_shared<Shared>();
  shared->io = plugin::IoThread::Create();
  g.executor = shared->io->executor();
  shared->gateway = std::make_unique<Gateway>(std::move(g));
  return std::shared_ptr<Registry>(std::make_shared<EtcdRegistry>(std::move(shared)));
}

}  // namespace micro::etcd
