// go-micro's registry cache (registry/cache/cache.go): fresh answers from memory, one lookup
// per service in flight, stale data on error, and a watch that keeps cached services current.
#include <micro/logger.h>
#include <micro/registry.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "util/worker_pool.h"

namespace micro {
namespace {

using registry::Event;
using registry::EventType;
using registry::Service;
using Services = std::vector<Service>;

class CacheRegistry : public Registry {
 public:
  CacheRegistry(std::shared_ptr<Registry> inner, CacheOptions options)
      : inner_(std::move(inner)), options_(options) {}

  ~CacheRegistry() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      if (watcher_) watcher_->Stop();
    }
    cv_.notify_all();
    if (watch_thread_.joinable()) watch_thread_.join();
  }

  Status Register(const Service& s, const RegisterOptions& o) override {
    return inner_->Register(s, o);
  }
  Status Deregister(const Service& s) override { return inner_->Deregister(s); }
  Result<Services> ListServices() override { return inner_->ListServices(); }
  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& o) override {
    return inner_->Watch(o);
  }
  std::string String() const override { return "cache"; }

  Result<Services> GetService(std::string_view name_view) override {
    const std::string name(name_view);
    std::unique_lock lock(mu_);
    const TimePoint now = Clock::now();
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      Entry& e = it->second;
      if (!e.services.empty() && now < e.expiry) return e.services;
      // Refreshed (or failed) very recently: do not hammer the registry; serve what we have.
      if (!e.services.empty() && now - e.last_attempt < options_.min_retry_interval) {
        return e.services;
      }
    }
    if (auto f = inflight_.find(name); f != inflight_.end()) {
      auto future = f->second;
      lock.unlock();
      return future.get();
    }
    std::promise<Result<Services>> promise;
    inflight_.emplace(name, promise.get_future().share());
    lock.unlock();

    Result<Services> fetched = inner_->GetService(name);

    lock.lock();
    Result<Services> answer = Store(name, std::move(fetched));
    inflight_.erase(name);
    if (options_.watch && !watch_thread_.joinable() && !stopping_) {
      watch_thread_ = std::thread([this] {
        util::SetThreadName("micro-cache");
        WatchLoop();
      });
    }
    lock.unlock();
    promise.set_value(answer);
    return answer;
  }

 private:
  struct Entry {
    Services services;
    TimePoint expiry{};
    TimePoint last_attempt{};
  };

  // Under mu_: records a lookup result and decides what the callers get.
  Result<Services> Store(const std::string& name, Result<Services> fetched) {
    const TimePoint now = Clock::now();
    if (fetched.ok() && !fetched->empty()) {
      Entry& e = entries_[name];
      e.services = *fetched;
      e.expiry = now + options_.ttl;
      e.last_attempt = now;
      return fetched;
    }
    if (fetched.ok() || registry::IsNotFound(fetched.error())) {
      // An authoritative "no such service": forget it rather than serve dead nodes.
      entries_.erase(name);
      return registry::ErrNotFound();
    }
    auto it = entries_.find(name);
    if (it != entries_.end() && !it->second.services.empty()) {
      it->second.last_attempt = now;
      log::Debug("registry cache: {} lookup failed ({}); serving stale data", name,
                 fetched.error().detail);
      return it->second.services;
    }
    return fetched;
  }

  void WatchLoop() {
    // A little jitter so a fleet of clients does not start watching at the same instant.
    thread_local std::minstd_rand rng{std::random_device{}()};
    int attempt = 0;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(rng() % 100), [&] { return stopping_; });
    while (!stopping_) {
      lock.unlock();
      auto w = inner_->Watch(WatchOptions{});
      lock.lock();
      if (stopping_) break;
      if (!w.ok()) {
        // Back off 10^attempt ms (capped), as go-micro does.
        auto backoff = std::chrono::milliseconds(attempt >= 4 ? 10000 : int(std::pow(10, attempt)));
        ++attempt;
        cv_.wait_for(lock, backoff, [&] { return stopping_; });
        continue;
      }
      attempt = 0;
      watcher_ = std::move(*w);
      // Changes made before the watch began were never seen: look everything up afresh.
      entries_.clear();
      registry::Watcher* watcher = watcher_.get();
      lock.unlock();
      for (;;) {
        auto ev = watcher->Next(std::chrono::seconds(1));
        if (!ev.ok()) {
          if (ev.error().code == 408) continue;
          break;  // stopped: the registry went away or we are shutting down
        }
        std::lock_guard g(mu_);
        Apply(*ev);
      }
      lock.lock();
      watcher_.reset();
      if (!stopping_) cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
    }
  }

  // Under mu_: applies a watch event to an already-cached service (others are ignored).
  void Apply(const Event& ev) {
    auto it = entries_.find(ev.service.name);
    if (it == entries_.end()) return;
    Services& versions = it->second.services;
    if (ev.type == EventType::kOverride ||
        (ev.type == EventType::kDelete && ev.service.nodes.empty())) {
      entries_.erase(it);
      return;
    }
    auto vit = std::find_if(versions.begin(), versions.end(),
                            [&](const Service& s) { return s.version == ev.service.version; });
    if (ev.type == EventType::kDelete) {
      if (vit == versions.end()) return;
      std::erase_if(vit->nodes, [&](const registry::Node& n) {
        return std::any_of(ev.service.nodes.begin(), ev.service.nodes.end(),
                           [&](const registry::Node& gone) { return gone.id == n.id; });
      });
      if (vit->nodes.empty()) versions.erase(vit);
      if (versions.empty()) entries_.erase(it);
      return;
    }
    if (vit == versions.end()) {
      versions.push_back(ev.service);
      return;
    }
    for (const registry::Node& n : ev.service.nodes) {
      auto nit = std::find_if(vit->nodes.begin(), vit->nodes.end(),
                              [&](const registry::Node& o) { return o.id == n.id; });
      if (nit != vit->nodes.end())
        *nit = n;
      else
        vit->nodes.push_back(n);
    }
    if (!ev.service.endpoints.empty()) vit->endpoints = ev.service.endpoints;
  }

  const std::shared_ptr<Registry> inner_;
  const CacheOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::shared_future<Result<Services>>> inflight_;
  std::unique_ptr<registry::Watcher> watcher_;
  std::thread watch_thread_;
};

}  // namespace

std::shared_ptr<Registry> NewCache(std::shared_ptr<Registry> inner, CacheOptions options) {
  return std::make_shared<CacheRegistry>(std::move(inner), options);
}

}  // namespace micro
