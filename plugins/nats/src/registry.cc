// The "nats" registry (go-micro's registry/nats): every process answers queries for the
// services it registered; lookups broadcast a query and collect the answers for a while.
#include <micro/logger.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "conn.h"
#include "micro/nats/nats.h"

namespace micro::nats {
namespace {

using nats_detail::Conn;
using nats_detail::Msg;
using nats_detail::Subscription;
using registry::Service;

// Not a std::string: io threads may still build errors while static destructors run at exit.
constexpr const char* kRegistryErrorId = error_ids::kRegistry;

std::string Param(const RegistryOptions& o, const std::string& key, std::string fallback) {
  auto it = o.params.find(key);
  return it == o.params.end() || it->second.empty() ? fallback : it->second;
}

// go-micro's registry.Result {Action, Service} (no json tags: capitalised keys).
std::string ResultJson(std::string_view action, const Service* service) {
  return fmt::format("{{\"Action\":\"{}\",\"Service\":{}}}", action,
                     service ? registry::ToJson(*service) : std::string("null"));
}

struct ParsedResult {
  std::string action;
  std::optional<Service> service;
};

// Parses {"Action":..,"Service":..} with Go's case-insensitive keys; nullopt when malformed.
std::optional<ParsedResult> ParseResult(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  ParsedResult r;
  for (const auto& [key, value] : j.items()) {
    if (EqualsIgnoreCase(key, "Action") && value.is_string()) {
      r.action = value.get<std::string>();
    } else if (EqualsIgnoreCase(key, "Service") && value.is_object()) {
      auto s = registry::ServiceFromJson(value.dump());
      if (!s) return std::nullopt;
      r.service = std::move(*s);
    }
  }
  return r;
}

// Adds (or refreshes, by id) the nodes of `add` to `into`.
void MergeNodes(Service& into, const Service& add) {
  for (const auto& n : add.nodes) {
    auto it = std::find_if(into.nodes.begin(), into.nodes.end(),
                           [&](const registry::Node& m) { return m.id == n.id; });
    if (it == into.nodes.end()) {
      into.nodes.push_back(n);
    } else {
      *it = n;
    }
  }
}

// The services this process registered, answered from nats.c's thread.
struct Holdings {
  std::mutex mu;
  std::map<std::string, std::vector<Service>, std::less<>> services;

  // On a nats.c thread (conn is valid while the query subscription is).
  void Answer(Conn& conn, const Msg& m) {
    if (m.reply.empty()) return;
    auto q = ParseResult(m.data);
    if (!q) return;
    std::vector<Service> out;
    {
      std::lock_guard lock(mu);
      if (q->action == "get" && q->service) {
        auto it = services.find(q->service->name);
        if (it != services.end()) out = it->second;
      } else if (q->action == "list") {
        for (const auto& [name, versions] : services) {
          out.insert(out.end(), versions.begin(), versions.end());
        }
      }
    }
    for (const auto& s : out) (void)conn.Publish(m.reply, registry::ToJson(s));
  }
};

// Answers to one lookup.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Service> by_version;  // key: name + "-" + version, as go-micro
  std::size_t quorum = 0;
  bool quorum_met = false;

  void Add(Service s) {
    std::lock_guard lock(mu);
    const std::string key = s.name + "-" + s.version;
    auto [it, fresh] = by_version.try_emplace(key, s);
    if (!fresh) MergeNodes(it->second, s);
    if (quorum > 0 && it->second.nodes.size() >= quorum) {
      quorum_met = true;
      cv.notify_all();
    }
  }
};

struct WatchState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<registry::Event> events;
  bool stopped = false;
  std::string service;
  static constexpr std::size_t kMaxBuffered = 1024;

  // On a nats.c thread.
  void OnMessage(const Msg& m) {
    auto r = ParseResult(m.data);
    if (!r || !r->service) return;
    if (!service.empty() && r->service->name != service) return;
    registry::Event ev;
    ev.type = registry::ParseEventType(r->action).value_or(registry::EventType::kUpdate);
    if (r->action == "put") ev.type = registry::EventType::kUpdate;
    ev.service = std::move(*r->service);
    ev.timestamp = std::chrono::system_clock::now();
    std::lock_guard lock(mu);
    if (stopped) return;
    if (events.size() >= kMaxBuffered) events.pop_front();  // a slow reader loses the oldest
    events.push_back(std::move(ev));
    cv.notify_one();
  }
};

class NatsWatcher final : public registry::Watcher {
 public:
  NatsWatcher(std::shared_ptr<WatchState> state, std::unique_ptr<Subscription> sub)
      : state_(std::move(state)), sub_(std::move(sub)) {}
  ~NatsWatcher() override { Stop(); }

  Result<registry::Event> Next(Duration timeout) override {
    std::unique_lock lock(state_->mu);
    const bool ready = state_->cv.wait_for(
        lock, timeout, [&] { return state_->stopped || !state_->events.empty(); });
    if (state_->stopped) return registry::ErrWatcherStopped();
    if (!ready) return errors::Timeout(kRegistryErrorId, "no registry event within the timeout");
    auto ev = std::move(state_->events.front());
    state_->events.pop_front();
    return ev;
  }

  void Stop() override {
    {
      std::lock_guard lock(state_->mu);
      state_->stopped = true;
      state_->cv.notify_all();
    }
    std::unique_ptr<Subscription> gone;
    {
      std::lock_guard lock(sub_mu_);
      gone = std::move(sub_);
    }
  }

 private:
  std::shared_ptr<WatchState> state_;
  std::mutex sub_mu_;
  std::unique_ptr<Subscription> sub_;
};

class NatsRegistry final : public Registry {
 public:
  explicit NatsRegistry(RegistryOptions options)
      : options_(std::move(options)),
        lazy_(
            [&] {
              nats_detail::ConnOptions c;
              c.urls = nats_detail::NormalizeUrls(options_.addrs);
              c.secure = options_.secure;
              nats_detail::ApplyParams(options_.params, c);
              return c;
            }(),
            kRegistryErrorId),
        query_topic_(Param(options_, "nats.query_topic", "micro.nats.query")),
        watch_topic_(Param(options_, "nats.watch_topic", "micro.nats.watch")),
        register_action_(Param(options_, "nats.register_action", "create")) {
    const std::string q = Param(options_, "nats.quorum", "0");
    (void)std::from_chars(q.data(), q.data() + q.size(), quorum_);
  }

  ~NatsRegistry() override {
    std::unique_ptr<Subscription> query, replies;
    {
      std::lock_guard lock(subs_mu_);
      query = std::move(query_sub_);
      replies = std::move(reply_sub_);
    }
  }

  Status Register(const Service& service, const RegisterOptions&) override {
    auto conn = lazy_.Get();
    if (!conn) return std::move(conn).error();
    {
      std::lock_guard lock(holdings_->mu);
      auto& versions = holdings_->services[service.name];
      auto it = std::find_if(versions.begin(), versions.end(),
                             [&](const Service& s) { return s.version == service.version; });
      if (it == versions.end()) {
        versions.push_back(service);
      } else {
        // The newest description wins; nodes accumulate.
        Service merged = service;
        merged.nodes = it->nodes;
        MergeNodes(merged, service);
        *it = std::move(merged);
      }
    }
    if (Status s = EnsureQuerySubscription(**conn); !s) return s;
    return (*conn)->Publish(watch_topic_, ResultJson(register_action_, &service));
  }

  Status Deregister(const Service& service) override {
    {
      std::lock_guard lock(holdings_->mu);
      auto it = holdings_->services.find(service.name);
      if (it != holdings_->services.end()) {
        auto& versions = it->second;
        for (auto v = versions.begin(); v != versions.end();) {
          if (v->version == service.version) {
            std::erase_if(v->nodes, [&](const registry::Node& n) {
              return std::any_of(service.nodes.begin(), service.nodes.end(),
                                 [&](const registry::Node& gone) { return gone.id == n.id; });
            });
          }
          v = v->nodes.empty() ? versions.erase(v) : std::next(v);
        }
        if (versions.empty()) holdings_->services.erase(it);
      }
    }
    DropQuerySubscriptionIfIdle();
    auto conn = lazy_.Get();
    if (!conn) return std::move(conn).error();
    return (*conn)->Publish(watch_topic_, ResultJson("delete", &service));
  }

  Result<std::vector<Service>> GetService(std::string_view name) override {
    Service wanted;
    wanted.name = std::string(name);
    auto found = Query(ResultJson("get", &wanted), quorum_);
    if (!found) return std::move(found).error();
    std::vector<Service> out;
    for (auto& s : *found) {
      if (s.name == name && !s.nodes.empty()) out.push_back(std::move(s));
    }
    if (out.empty()) return registry::ErrNotFound();
    return out;
  }

  Result<std::vector<Service>> ListServices() override {
    auto found = Query(ResultJson("list", nullptr), 0);
    if (!found) return std::move(found).error();
    std::vector<Service> out;
    for (auto& s : *found) {
      Service brief;
      brief.name = std::move(s.name);
      brief.version = std::move(s.version);
      out.push_back(std::move(brief));
    }
    std::sort(out.begin(), out.end(), [](const Service& a, const Service& b) {
      return std::tie(a.name, a.version) < std::tie(b.name, b.version);
    });
    return out;
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto conn = lazy_.Get();
    if (!conn) return std::move(conn).error();
    auto state = std::make_shared<WatchState>();
    state->service = options.service;
    auto sub = (*conn)->Subscribe(watch_topic_, "", [state](Msg m) { state->OnMessage(m); });
    if (!sub) return std::move(sub).error();
    // Subscribed for real once the server has the SUB: later registrations are seen.
    if (Status s = (*conn)->Flush(std::chrono::seconds(5)); !s) return std::move(s).error();
    return std::unique_ptr<registry::Watcher>(
        std::make_unique<NatsWatcher>(std::move(state), std::move(*sub)));
  }

  std::string String() const override { return "nats"; }

 private:
  // Nothing left to answer for: stop listening to queries, as go-micro. (Checked under
  // subs_mu_, so a concurrent Register's EnsureQuerySubscription cannot be undone.)
  void DropQuerySubscriptionIfIdle() {
    std::unique_ptr<Subscription> gone;
    std::lock_guard lock(subs_mu_);
    std::lock_guard hold(holdings_->mu);
    if (holdings_->services.empty()) gone = std::move(query_sub_);
  }

  Status EnsureQuerySubscription(Conn& conn) {
    std::lock_guard lock(subs_mu_);
    if (query_sub_) return {};
    auto sub =
        conn.Subscribe(query_topic_, "", [h = holdings_, c = &conn](Msg m) { h->Answer(*c, m); });
    if (!sub) return std::move(sub).error();
    query_sub_ = std::move(*sub);
    return conn.Flush(std::chrono::seconds(5));
  }

  // Broadcasts a query and collects the answers until the timeout (or the quorum).
  Result<std::vector<Service>> Query(const std::string& query, std::size_t quorum) {
    auto conn = lazy_.Get();
    if (!conn) return std::move(conn).error();
    auto lookup = std::make_shared<Lookup>();
    lookup->quorum = quorum;
    std::string inbox;
    {
      std::lock_guard lock(subs_mu_);
      if (!reply_sub_) {
        reply_prefix_ = Conn::NewInbox();
        auto sub = (*conn)->Subscribe(reply_prefix_ + ".*", "",
                                      [this](Msg m) { DeliverAnswer(std::move(m)); });
        if (!sub) return std::move(sub).error();
        reply_sub_ = std::move(*sub);
      }
      inbox = fmt::format("{}.{}", reply_prefix_, ++next_lookup_);
    }
    {
      std::lock_guard lock(lookups_mu_);
      lookups_[inbox] = lookup;
    }
    Status sent = (*conn)->Publish(query_topic_, query, inbox);
    std::vector<Service> out;
    if (sent) {
      std::unique_lock lock(lookup->mu);
      lookup->cv.wait_for(lock, options_.timeout, [&] { return lookup->quorum_met; });
      for (auto& [key, s] : lookup->by_version) out.push_back(std::move(s));
    }
    {
      std::lock_guard lock(lookups_mu_);
      lookups_.erase(inbox);
    }
    if (!sent) return std::move(sent).error();
    return out;
  }

  // On a nats.c thread.
  void DeliverAnswer(Msg m) {
    std::shared_ptr<Lookup> lookup;
    {
      std::lock_guard lock(lookups_mu_);
      auto it = lookups_.find(m.subject);
      if (it == lookups_.end()) return;  // late: the lookup is over
      lookup = it->second;
    }
    auto s = registry::ServiceFromJson(m.data);
    if (s) lookup->Add(std::move(*s));
  }

  RegistryOptions options_;
  nats_detail::LazyConn lazy_;
  std::string query_topic_, watch_topic_, register_action_;
  std::size_t quorum_ = 0;
  std::shared_ptr<Holdings> holdings_ = std::make_shared<Holdings>();
  std::mutex lookups_mu_;
  std::map<std::string, std::shared_ptr<Lookup>, std::less<>> lookups_;
  std::mutex subs_mu_;
  std::string reply_prefix_;
  uint64_t next_lookup_ = 0;
  std::unique_ptr<Subscription> query_sub_;
  std::unique_ptr<Subscription> reply_sub_;  // last: destroyed before the maps it feeds
};

}  // namespace

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options) {
  auto r = std::make_shared<NatsRegistry>(std::move(options));
  return std::shared_ptr<Registry>(std::move(r));
}

}  // namespace micro::nats
