// The in-process registry (go-micro's registry/memory.go semantics): name -> version ->
// nodes, each node with a TTL refreshed by Register; a pruner thread removes expired nodes.
#include <micro/registry.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "micro/plugin/watch.h"
#include "util/worker_pool.h"

namespace micro {
namespace {

using registry::Event;
using registry::EventType;
using registry::Node;
using registry::Service;

struct NodeRecord {
  Node node;
  Duration ttl{0};
  TimePoint last_seen;
};

struct VersionRecord {
  Service service;  // nodes kept in `nodes` below, not here
  std::map<std::string, NodeRecord> nodes;
};

Duration PruneInterval(const RegistryOptions& o) {
  if (auto it = o.params.find("memory.prune_interval_ms"); it != o.params.end()) {
    try {
      return std::chrono::milliseconds(std::max(1, std::stoi(it->second)));
    } catch (...) {
    }
  }
  return std::chrono::seconds(1);
}

class MemoryRegistry : public Registry {
 public:
  explicit MemoryRegistry(RegistryOptions options)
      : options_(std::move(options)), prune_interval_(PruneInterval(options_)) {
    pruner_ = std::thread([this] {
      util::SetThreadName("micro-mem-reg");
      PruneLoop();
    });
  }

  ~MemoryRegistry() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    pruner_.join();
    std::lock_guard lock(mu_);
    for (auto& w : watchers_) {
      if (auto q = w.lock()) q->Stop();
    }
  }

  Status Register(const Service& service, const RegisterOptions& options) override {
    if (service.name.empty())
      return errors::BadRequest(error_ids::kRegistry, "service name is empty");
    std::lock_guard lock(mu_);
    auto& versions = services_[service.name];
    bool changed = false;
    auto [it, inserted] = versions.try_emplace(service.version);
    VersionRecord& rec = it->second;
    changed |= inserted;
    rec.service = service;
    rec.service.nodes.clear();
    const TimePoint now = Clock::now();
    for (const Node& n : service.nodes) {
      auto [nit, added] = rec.nodes.try_emplace(n.id);
      changed |= added || nit->second.node != n;
      nit->second.node = n;
      nit->second.ttl = options.ttl;
      nit->second.last_seen = now;
    }
    if (changed) PublishLocked(EventType::kUpdate, service);
    return {};
  }

  Status Deregister(const Service& service) override {
    std::lock_guard lock(mu_);
    auto sit = services_.find(service.name);
    if (sit == services_.end()) return {};
    auto vit = sit->second.find(service.version);
    if (vit == sit->second.end()) return {};
    for (const Node& n : service.nodes) vit->second.nodes.erase(n.id);
    if (vit->second.nodes.empty()) sit->second.erase(vit);
    if (sit->second.empty()) services_.erase(sit);
    PublishLocked(EventType::kDelete, service);
    return {};
  }

  Result<std::vector<Service>> GetService(std::string_view name) override {
    std::lock_guard lock(mu_);
    auto sit = services_.find(std::string(name));
    if (sit == services_.end()) return registry::ErrNotFound();
    std::vector<Service> out;
    for (const auto& [version, rec] : sit->second) out.push_back(Flatten(rec));
    return out;
  }

  Result<std::vector<Service>> ListServices() override {
    std::lock_guard lock(mu_);
    std::vector<Service> out;
    for (const auto& [name, versions] : services_) {
      for (const auto& [version, rec] : versions) out.push_back(Flatten(rec));
    }
    return out;
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto queue = std::make_shared<plugin::WatchQueue>(options.service);
    std::lock_guard lock(mu_);
    if (stopping_) return registry::ErrWatcherStopped();
    watchers_.push_back(queue);
    return std::unique_ptr<registry::Watcher>(std::make_unique<plugin::QueueWatcher>(queue));
  }

  std::string String() const override { return "memory"; }

 private:
  static Service Flatten(const VersionRecord& rec) {
    Service s = rec.service;
    for (const auto& [id, n] : rec.nodes) s.nodes.push_back(n.node);
    return s;
  }

  void PublishLocked(EventType type, const Service& service) {
    Event e{.type = type, .service = service, .timestamp = std::chrono::system_clock::now()};
    std::erase_if(watchers_, [](const auto& w) {
      auto q = w.lock();
      return !q || q->stopped();
    });
    for (auto& w : watchers_) {
      if (auto q = w.lock(); q && q->Wants(service.name)) q->Push(e);
    }
  }

  void PruneLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, prune_interval_, [&] { return stopping_; });
      if (stopping_) break;
      const TimePoint now = Clock::now();
      for (auto sit = services_.begin(); sit != services_.end();) {
        for (auto vit = sit->second.begin(); vit != sit->second.end();) {
          Service expired = vit->second.service;
          std::erase_if(vit->second.nodes, [&](const auto& kv) {
            const NodeRecord& n = kv.second;
            if (n.ttl <= Duration::zero() || now - n.last_seen < n.ttl) return false;
            expired.nodes.push_back(n.node);
            return true;
          });
          if (!expired.nodes.empty()) PublishLocked(EventType::kDelete, expired);
          vit = vit->second.nodes.empty() ? sit->second.erase(vit) : std::next(vit);
        }
        sit = sit->second.empty() ? services_.erase(sit) : std::next(sit);
      }
    }
  }

  const RegistryOptions options_;
  const Duration prune_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::map<std::string, VersionRecord>> services_;
  std::vector<std::weak_ptr<plugin::WatchQueue>> watchers_;
  std::thread pruner_;
};

}  // namespace

Result<std::shared_ptr<Registry>> NewMemoryRegistry(RegistryOptions options) {
  return std::shared_ptr<Registry>(std::make_shared<MemoryRegistry>(std::move(options)));
}

}  // namespace micro
