// The Consul registry (see micro/consul/consul.h).
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "micro/consul/consul.h"
#include "micro/http_client.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "micro/plugin/watch.h"
#include "tags.h"

namespace micro::consul {
namespace {

using consul_detail::DecodeTags;
using consul_detail::EncodeTags;
using consul_detail::GoDuration;
using Json = nlohmann::json;

constexpr std::string_view kErrorId = error_ids::kRegistry;

std::string Escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> SplitAgents(const std::vector<std::string>& addrs, bool* secure) {
  return plugin::SplitHttpEndpoints(addrs, "8500", secure);
}

std::string Param(const RegistryOptions& o, const std::string& key, const char* env = nullptr) {
  return plugin::ParamOrEnv(o.params, key, env);
}

// One node as Consul reports it, turned back into a one-node go-micro service.
registry::Service FromHealthEntry(const std::string& name, const Json& entry) {
  registry::Service s;
  s.name = name;
  const Json& svc = entry.value("Service", Json::object());
  std::vector<std::string> tags;
  if (svc.contains("Tags") && svc["Tags"].is_array()) {
    for (const auto& t : svc["Tags"]) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  }
  auto decoded = DecodeTags(tags);
  s.version = decoded.version;
  s.endpoints = std::move(decoded.endpoints);
  registry::Node node;
  node.id = svc.value("ID", "");
  std::string host = svc.value("Address", "");
  if (host.empty() && entry.contains("Node")) host = entry["Node"].value("Address", "");
  const int port = svc.value("Port", 0);
  node.address = plugin::JoinHostPort(host, static_cast<uint16_t>(port));
  node.metadata = std::move(decoded.metadata);
  if (node.metadata.empty() && svc.contains("Meta") && svc["Meta"].is_object()) {
    for (auto& [k, v] : svc["Meta"].items()) {
      if (v.is_string()) node.metadata[k] = v.get<std::string>();
    }
  }
  s.nodes.push_back(std::move(node));
  return s;
}

bool AnyCritical(const Json& entry) {
  if (!entry.contains("Checks") || !entry["Checks"].is_array()) return false;
  for (const auto& c : entry["Checks"]) {
    if (c.value("Status", "") == "critical") return true;
  }
  return false;
}

uint64_t IndexOf(const http::Response& rsp) {
  auto v = rsp.header.GetOr("X-Consul-Index");
  uint64_t index = 0;
  std::from_chars(v.data(), v.data() + v.size(), index);
  return index;
}

struct Agent {
  std::vector<std::string> addresses;
  std::string token;
  bool allow_stale = true;
  Duration timeout = std::chrono::seconds(5);
  std::string wait = "30s";
  Duration wait_duration = std::chrono::seconds(30);
  std::shared_ptr<plugin::IoThread> io;
  std::unique_ptr<http::Client> client;
  std::mutex mu;
  std::size_t current = 0;

  struct Answer {
    int status = 0;
    Json body;
    uint64_t index = 0;
  };

  // One request to the first agent that answers (any HTTP status).
  asio::awaitable<Result<Answer>> Do(std::string method, std::string target, std::string body,
                                     Context ctx) {
    std::size_t first;
    {
      std::lock_guard lock(mu);
      first = current;
    }
    Error last = errors::InternalServerError(std::string(kErrorId), "consul: no agent address");
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      const std::size_t idx = (first + i) % addresses.size();
      http::Request req{.method = method, .target = target, .body = body};
      if (!token.empty()) req.header.Set("X-Consul-Token", token);
      if (!body.empty()) req.header.Set("Content-Type", "application/json");
      auto rsp = co_await client->Send(addresses[idx], std::move(req), ctx);
      if (!rsp) {
        if (ctx.Done()) co_return std::move(rsp).error();
        last = errors::InternalServerError(std::string(kErrorId), "consul {}: {}", addresses[idx],
                                           rsp.error().detail);
        continue;
      }
      {
        std::lock_guard lock(mu);
        current = idx;
      }
      Answer a;
      a.status = rsp->status;
      a.index = IndexOf(*rsp);
      a.body = rsp->body.empty() ? Json() : Json::parse(rsp->body, nullptr, false);
      if (a.status != 200) {
        a.body = Json(rsp->body);
      }
      co_return a;
    }
    co_return last;
  }

  Result<Answer> DoSync(std::string method, std::string target, std::string body = {}) {
    return plugin::RunBlocking(
        io->executor(),
        Do(std::move(method), std::move(target), std::move(body), Context::WithTimeout(timeout)),
        kErrorId);
  }

  std::string ReadQuery(std::string_view first_sep = "?") const {
    return allow_stale ? std::string(first_sep) + "stale" : std::string();
  }

  std::string HealthTarget(const std::string& name, uint64_t index) const {
    std::string t = "/v1/health/service/" + Escape(name) + "?passing" + ReadQuery("&");
    if (index > 0) t += "&index=" + std::to_string(index) + "&wait=" + wait;
    return t;
  }
  std::string CatalogTarget(uint64_t index) const {
    std::string t = "/v1/catalog/services" + ReadQuery("?");
    if (index > 0)
      t +=
          std::string(allow_stale ? "&" : "?") + "index=" + std::to_string(index) + "&wait=" + wait;
    return t;
  }
};

Error AgentError(std::string_view what, const Agent::Answer& a) {
  return errors::InternalServerError(
      std::string(kErrorId), "consul {} ({}): {}", what, a.status,
      a.body.is_string() ? a.body.get<std::string>() : a.body.dump());
}

// The nodes of one service by id, from a health answer (critical entries dropped).
using Snapshot = std::map<std::string, registry::Service>;

Snapshot SnapshotOf(const std::string& name, const Json& entries) {
  Snapshot out;
  if (!entries.is_array()) return out;
  for (const auto& e : entries) {
    if (AnyCritical(e)) continue;
    auto s = FromHealthEntry(name, e);
    out[s.nodes[0].id] = std::move(s);
  }
  return out;
}

struct WatchState {
  std::shared_ptr<plugin::WatchQueue> queue;
  Context ctx;
  std::mutex mu;
  std::set<std::string> watched;  // services with a loop (all-services watch)
};

void Diff(const Snapshot& before, const Snapshot& after, plugin::WatchQueue& q) {
  const auto now = std::chrono::system_clock::now();
  for (const auto& [id, s] : after) {
    auto it = before.find(id);
    if (it == before.end()) {
      q.Push({registry::EventType::kCreate, s, now});
    } else if (!(it->second == s)) {
      q.Push({registry::EventType::kUpdate, s, now});
    }
  }
  for (const auto& [id, s] : before) {
    if (!after.count(id)) q.Push({registry::EventType::kDelete, s, now});
  }
}

asio::awaitable<void> Sleep(Duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  (void)co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

// Blocking queries on one service's health, diffed into events.
asio::awaitable<void> ServiceLoop(std::shared_ptr<Agent> agent, std::shared_ptr<WatchState> w,
                                  std::string name, Snapshot snapshot, uint64_t index) {
  auto backoff = std::chrono::milliseconds(100);
  while (!w->ctx.cancelled() && !w->queue->stopped()) {
    Context ctx = w->ctx.ChildWithTimeout(agent->wait_duration + agent->timeout);
    std::string method = "GET", target = agent->HealthTarget(name, index), body;
    auto a = co_await agent->Do(std::move(method), std::move(target), std::move(body), ctx);
    if (w->ctx.cancelled()) break;
    if (!a || a->status != 200) {
      co_await Sleep(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(2));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    // An index that goes backwards (agent restarted) restarts from scratch, as Consul advises.
    index = a->index < index ? 0 : a->index;
    Snapshot now = SnapshotOf(name, a->body);
    Diff(snapshot, now, *w->queue);
    snapshot = std::move(now);
    if (index == 0) co_await Sleep(std::chrono::milliseconds(100));
  }
}

// All services: blocking queries on the catalog, one ServiceLoop per name seen.
asio::awaitable<void> CatalogLoop(std::shared_ptr<Agent> agent, std::shared_ptr<WatchState> w,
                                  uint64_t index) {
  auto backoff = std::chrono::milliseconds(100);
  while (!w->ctx.cancelled() && !w->queue->stopped()) {
    Context ctx = w->ctx.ChildWithTimeout(agent->wait_duration + agent->timeout);
    std::string method = "GET", target = agent->CatalogTarget(index), body;
    auto a = co_await agent->Do(std::move(method), std::move(target), std::move(body), ctx);
    if (w->ctx.cancelled()) break;
    if (!a || a->status != 200 || !a->body.is_object()) {
      co_await Sleep(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(2));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    index = a->index < index ? 0 : a->index;
    for (auto& [name, tags] : a->body.items()) {
      std::lock_guard lock(w->mu);
      if (!w->watched.insert(name).second) continue;
      // New since the watch began: everything in it is a create.
      asio::co_spawn(co_await asio::this_coro::executor, ServiceLoop(agent, w, name, {}, 0),
                     asio::detached);
    }
    if (index == 0) co_await Sleep(std::chrono::milliseconds(100));
  }
}

class ConsulRegistry final : public Registry {
 public:
  explicit ConsulRegistry(std::shared_ptr<Agent> agent) : agent_(std::move(agent)) {}
  ~ConsulRegistry() override { watches_.StopAll(); }

  Status Register(const registry::Service& service, const RegisterOptions& options) override {
    if (service.nodes.empty()) {
      return errors::BadRequest(std::string(kErrorId), "consul: require at least one node");
    }
    for (const auto& node : service.nodes) {
      if (Status st = RegisterNode(service, node, options.ttl); !st) return st;
    }
    return {};
  }

  Status Deregister(const registry::Service& service) override {
    for (const auto& node : service.nodes) {
      {
        std::lock_guard lock(mu_);
        registered_.erase(node.id);
      }
      auto a = agent_->DoSync("PUT", "/v1/agent/service/deregister/" + Escape(node.id));
      if (!a) return std::move(a).error();
      if (a->status != 200 && a->status != 404) return AgentError("deregister", *a);
    }
    return {};
  }

  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    auto a = agent_->DoSync("GET", agent_->HealthTarget(std::string(name), 0));
    if (!a) return std::move(a).error();
    if (a->status != 200) return AgentError("health", *a);
    std::vector<registry::Service> out;
    for (auto& entry : SnapshotOf(std::string(name), a->body)) {
      registry::Service& s = entry.second;  // not a structured binding: clang 14 can't capture one
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const auto& have) { return have.version == s.version; });
      if (it == out.end()) {
        out.push_back(std::move(s));
      } else {
        it->nodes.push_back(std::move(s.nodes[0]));
      }
    }
    if (out.empty()) return registry::ErrNotFound();
    return out;
  }

  Result<std::vector<registry::Service>> ListServices() override {
    auto a = agent_->DoSync("GET", agent_->CatalogTarget(0));
    if (!a) return std::move(a).error();
    if (a->status != 200 || !a->body.is_object()) return AgentError("catalog", *a);
    std::vector<registry::Service> out;
    for (auto& [name, tags] : a->body.items()) {
      std::set<std::string> versions;
      if (tags.is_array()) {
        for (const auto& t : tags) {
          if (!t.is_string()) continue;
          auto v = DecodeTags({t.get<std::string>()}).version;
          if (!v.empty()) versions.insert(v);
        }
      }
      if (versions.empty()) versions.insert("");
      for (const auto& v : versions) out.push_back({.name = name, .version = v});
    }
    return out;  // Consul's catalog is sorted by name
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto w = std::make_shared<WatchState>();
    w->queue = std::make_shared<plugin::WatchQueue>(options.service);
    watches_.Add(w);
    // The state as of now, taken before returning: anything changed after Watch returned is
    // reported.
    auto ex = agent_->io->executor();
    if (!options.service.empty()) {
      Snapshot base;
      uint64_t index = 0;
      auto a = agent_->DoSync("GET", agent_->HealthTarget(options.service, 0));
      if (a && a->status == 200) {
        base = SnapshotOf(options.service, a->body);
        index = a->index;
      }
      asio::co_spawn(ex, ServiceLoop(agent_, w, options.service, std::move(base), index),
                     asio::detached);
    } else {
      uint64_t index = 0;
      auto a = agent_->DoSync("GET", agent_->CatalogTarget(0));
      if (a && a->status == 200 && a->body.is_object()) {
        index = a->index;
        for (auto& [name, tags] : a->body.items()) {
          auto h = agent_->DoSync("GET", agent_->HealthTarget(name, 0));
          Snapshot base;
          uint64_t hindex = 0;
          if (h && h->status == 200) {
            base = SnapshotOf(name, h->body);
            hindex = h->index;
          }
          w->watched.insert(name);
          asio::co_spawn(ex, ServiceLoop(agent_, w, name, std::move(base), hindex), asio::detached);
        }
      }
      asio::co_spawn(ex, CatalogLoop(agent_, w, index), asio::detached);
    }
    auto stop = [w] {
      w->ctx.Cancel();
      w->queue->Stop();
    };
    return std::unique_ptr<registry::Watcher>(
        std::make_unique<plugin::QueueWatcher>(w->queue, std::move(stop)));
  }

  std::string String() const override { return "consul"; }

 private:
  Status RegisterNode(const registry::Service& service, const registry::Node& node, Duration ttl) {
    auto hp = plugin::ParseHostPort(node.address);
    if (!hp) {
      return errors::BadRequest(std::string(kErrorId), "consul: node address {}: {}", node.address,
                                hp.error().detail);
    }
    Json reg = {{"ID", node.id},
                {"Name", service.name},
                {"Tags", EncodeTags(node.metadata, service.endpoints, service.version)},
                {"Port", hp->min_port},
                {"Address", hp->host},
                {"Meta", node.metadata}};
    if (ttl > Duration::zero()) {
      const Duration dereg =
          std::max<Duration>(ttl, std::chrono::minutes(1)) + std::chrono::seconds(5);
      reg["Check"] = {{"TTL", GoDuration(ttl)},
                      {"DeregisterCriticalServiceAfter", GoDuration(dereg)}};
    }
    const std::string body = reg.dump();
    bool unchanged;
    {
      std::lock_guard lock(mu_);
      auto it = registered_.find(node.id);
      unchanged = it != registered_.end() && it->second == body;
    }
    const std::string check = "/v1/agent/check/pass/" + Escape("service:" + node.id);
    if (unchanged) {
      if (ttl <= Duration::zero()) return {};
      auto p = agent_->DoSync("PUT", check);
      if (!p) return std::move(p).error();
      if (p->status == 200) return {};
      // The agent lost it (restarted, or deregistered it while critical): register again.
    }
    auto a = agent_->DoSync("PUT", "/v1/agent/service/register", body);
    if (!a) return std::move(a).error();
    if (a->status != 200) return AgentError("register", *a);
    if (ttl > Duration::zero()) {
      auto p = agent_->DoSync("PUT", check);
      if (!p) return std::move(p).error();
      if (p->status != 200) return AgentError("check pass", *p);
    }
    std::lock_guard lock(mu_);
    registered_[node.id] = body;
    return {};
  }

  std::shared_ptr<Agent> agent_;
  std::mutex mu_;
  std::map<std::string, std::string> registered_;  // node id -> registration body
  plugin::WatchList<WatchState> watches_;
};

}  // namespace

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options) {
  auto agent = std::make_shared<Agent>();
  bool secure = options.secure;
  auto addrs = options.addrs;
  if (addrs.empty()) {
    if (const char* env = std::getenv("CONSUL_HTTP_ADDR"); env && *env) addrs = {env};
  }
  if (addrs.empty()) addrs = {"127.0.0.1:8500"};
  agent->addresses = SplitAgents(addrs, &secure);
  if (agent->addresses.empty()) {
    return errors::BadRequest(std::string(kErrorId), "consul: no agent in registry address");
  }
  agent->token = Param(options, "consul.token", "CONSUL_HTTP_TOKEN");
  agent->allow_stale = Param(options, "consul.allow_stale") != "false";
  if (auto t = Param(options, "consul.timeout_ms"); !t.empty()) {
    char* end = nullptr;
    const long ms = std::strtol(t.c_str(), &end, 10);
    if (!end || *end || ms <= 0) {
      return errors::BadRequest(std::string(kErrorId), "consul: bad consul.timeout_ms {}", t);
    }
    agent->timeout = std::chrono::milliseconds(ms);
  }
  if (auto w = Param(options, "consul.wait"); !w.empty()) {
    char* end = nullptr;
    const long n = std::strtol(w.c_str(), &end, 10);
    const std::string unit = end ? end : "";
    if (n <= 0 || (unit != "s" && unit != "ms" && unit != "m")) {
      return errors::BadRequest(std::string(kErrorId), "consul: bad consul.wait {}", w);
    }
    agent->wait = w;
    agent->wait_duration = unit == "ms"  ? Duration(std::chrono::milliseconds(n))
                           : unit == "s" ? Duration(std::chrono::seconds(n))
                                         : Duration(std::chrono::minutes(n));
  }
  TlsOptions tls;
  tls.ca_file = Param(options, "consul.ca_file");
  tls.insecure_skip_verify = Param(options, "consul.insecure_skip_verify") == "true";
  agent->io = plugin::IoThread::Create();
  agent->client = std::make_unique<http::Client>(
      http::ClientOptions{.secure = secure,
                          .tls = tls,
                          .connect_timeout = agent->timeout,
                          .request_timeout = Duration::zero(),  // per call, through the context
                          .executor = agent->io->executor()});
  return std::shared_ptr<Registry>(std::make_shared<ConsulRegistry>(std::move(agent)));
}

}  // namespace micro::consul
