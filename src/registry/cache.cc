// go-micro's registry cache (registry/cache/cache.go): fresh answers from memory, one lookup
// per service in flight, stale data on error, and a watch that keeps cached services current.
//
// Each cached service is an immutable Snapshot behind a shared_ptr: readers (Peek, the
// selector's hot path) take a shared lock just long enough to copy the pointer; a lookup or a
// watch event builds a new Snapshot outside the lock and swaps it in under the exclusive lock.
// A miss is resolved by one lookup per service (single flight): the first synchronous caller
// runs it on its own thread, an asynchronous miss runs it on a short-lived thread of the
// cache; every other caller waits on (sync) or is called back by (async) that lookup.
#include <micro/logger.h>
#include <micro/registry.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>

#include "util/worker_pool.h"

namespace micro {
namespace {

using registry::Event;
using registry::EventType;
using registry::Service;
using registry::SnapshotPtr;
using Services = std::vector<Service>;

SnapshotPtr MakeSnapshot(std::string name, Services services) {
  auto snap = std::make_shared<registry::Snapshot>();
  snap->name = std::move(name);
  size_t count = 0;
  for (const auto& s : services) count += s.nodes.size();
  snap->nodes.reserve(count);
  for (const auto& s : services)
    snap->nodes.insert(snap->nodes.end(), s.nodes.begin(), s.nodes.end());
  snap->services = std::move(services);
  return snap;
}

// Applies a watch event to a cached service's versions; false when it changes nothing.
// An empty result means the service is gone.
bool ApplyEvent(Services& versions, const Event& ev) {
  if (ev.type == EventType::kOverride ||
      (ev.type == EventType::kDelete && ev.service.nodes.empty())) {
    versions.clear();
    return true;
  }
  auto vit = std::find_if(versions.begin(), versions.end(),
                          [&](const Service& s) { return s.version == ev.service.version; });
  if (ev.type == EventType::kDelete) {
    if (vit == versions.end()) return false;
    const size_t erased = std::erase_if(vit->nodes, [&](const registry::Node& n) {
      return std::any_of(ev.service.nodes.begin(), ev.service.nodes.end(),
                         [&](const registry::Node& gone) { return gone.id == n.id; });
    });
    if (vit->nodes.empty()) versions.erase(vit);
    return erased > 0;
  }
  if (vit == versions.end()) {
    versions.push_back(ev.service);
    return true;
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
  return true;
}

class CacheRegistry final : public RegistryCache {
 public:
  CacheRegistry(std::shared_ptr<Registry> inner, CacheOptions options)
      : inner_(std::move(inner)), options_(options) {}

  ~CacheRegistry() override {
    std::list<std::thread> lookups;
    {
      std::lock_guard lock(life_mu_);
      stopping_ = true;
      if (watcher_) watcher_->Stop();
      lookups.swap(lookups_);
    }
    life_cv_.notify_all();
    if (watch_thread_.joinable()) watch_thread_.join();
    for (auto& t : lookups) t.join();  // their callbacks still run
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

  Result<Services> GetService(std::string_view name) override {
    auto snap = Lookup(name);
    if (!snap) return std::move(snap).error();
    return (*snap)->services;  // the Registry interface returns a copy
  }

  SnapshotPtr Peek(std::string_view name) override {
    const TimePoint now = Clock::now();
    std::shared_lock lock(mu_);
    return Usable(name, now);
  }

  Result<SnapshotPtr> Lookup(std::string_view name) override {
    if (auto snap = Peek(name)) return snap;
    std::unique_lock lock(mu_);
    if (auto snap = Usable(name, Clock::now())) return snap;
    if (auto f = inflight_.find(name); f != inflight_.end()) {
      auto promise = std::make_shared<std::promise<Result<SnapshotPtr>>>();
      auto answer = promise->get_future();
      f->second.push_back([promise](Result<SnapshotPtr> r) { promise->set_value(std::move(r)); });
      lock.unlock();
      return answer.get();
    }
    inflight_.emplace(std::string(name), std::vector<LookupCallback>{});
    lock.unlock();
    return Fetch(std::string(name));
  }

  void LookupAsync(std::string_view name, LookupCallback done) override {
    if (auto snap = Peek(name)) return done(std::move(snap));
    std::unique_lock lock(mu_);
    if (auto snap = Usable(name, Clock::now())) {
      lock.unlock();
      return done(std::move(snap));
    }
    if (auto f = inflight_.find(name); f != inflight_.end()) {
      f->second.push_back(std::move(done));  // the lookup in flight answers it
      return;
    }
    std::vector<LookupCallback> waiters;
    waiters.push_back(std::move(done));
    inflight_.emplace(std::string(name), std::move(waiters));
    lock.unlock();
    StartLookupThread(std::string(name));
  }

 private:
  struct Entry {
    SnapshotPtr snap;  // never null
    TimePoint expiry{};
    TimePoint last_attempt{};
  };

  // Under mu_ (shared or exclusive): the entry's snapshot if it may be served without asking
  // the registry: fresh, or refreshed (or failed) too recently to ask again.
  SnapshotPtr Usable(std::string_view name, TimePoint now) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) return nullptr;
    const Entry& e = it->second;
    if (now < e.expiry || now - e.last_attempt < options_.min_retry_interval) return e.snap;
    return nullptr;
  }

  void StartLookupThread(const std::string& name) {
    std::string failed;
    {
      std::lock_guard lock(life_mu_);
      auto slot = lookups_.emplace(lookups_.end());
      try {
        *slot = std::thread([this, slot, name] {
          util::SetThreadName("micro-lookup");
          (void)Fetch(name);
          // A finished lookup detaches and forgets itself (touching nothing of this after the
          // unlock): none is left unjoined when the cache itself is never destroyed (one
          // held by a coroutine frame still suspended at exit). Once stopping, the destructor
          // owns the thread and joins it.
          std::lock_guard done(life_mu_);
          if (!stopping_) {
            slot->detach();
            lookups_.erase(slot);
          }
        });
      } catch (const std::system_error& e) {
        lookups_.erase(slot);
        failed = e.what();
      }
    }
    // No thread: the waiters get stale data or an error now rather than hang.
    if (!failed.empty()) {
      (void)Finish(name, errors::InternalServerError(
                             "go.micro.registry", "registry cache: no lookup thread: {}", failed));
    }
  }

  // Asks the registry (the caller is the flight's leader), stores the answer and hands it to
  // every caller that joined the flight.
  Result<SnapshotPtr> Fetch(const std::string& name) {
    Result<Services> fetched = inner_->GetService(name);
    return Finish(name, std::move(fetched));
  }

  Result<SnapshotPtr> Finish(const std::string& name, Result<Services> fetched) {
    // The new snapshot is built outside the lock.
    SnapshotPtr fresh;
    if (fetched.ok() && !fetched->empty()) fresh = MakeSnapshot(name, std::move(*fetched));
    std::vector<LookupCallback> waiters;
    Result<SnapshotPtr> answer = [&]() -> Result<SnapshotPtr> {
      std::lock_guard lock(mu_);
      if (auto f = inflight_.find(name); f != inflight_.end()) {
        waiters = std::move(f->second);
        inflight_.erase(f);
      }
      return Store(name, fresh, fetched);
    }();
    if (options_.watch) {
      std::lock_guard lock(life_mu_);
      if (!watch_thread_.joinable() && !stopping_) {
        watch_thread_ = std::thread([this] {
          util::SetThreadName("micro-cache");
          WatchLoop();
        });
      }
    }
    for (auto& w : waiters) w(answer);
    return answer;
  }

  // Under mu_ (exclusive): records a lookup result and decides what the callers get.
  Result<SnapshotPtr> Store(const std::string& name, const SnapshotPtr& fresh,
                            const Result<Services>& fetched) {
    const TimePoint now = Clock::now();
    if (fresh) {
      Entry& e = entries_[name];
      e.snap = fresh;
      e.expiry = now + options_.ttl;
      e.last_attempt = now;
      return fresh;
    }
    if (fetched.ok() || registry::IsNotFound(fetched.error())) {
      // An authoritative "no such service": forget it rather than serve dead nodes.
      entries_.erase(name);
      return registry::ErrNotFound();
    }
    auto it = entries_.find(name);
    if (it != entries_.end()) {
      it->second.last_attempt = now;
      log::Debug("registry cache: {} lookup failed ({}); serving stale data", name,
                 fetched.error().detail);
      return it->second.snap;
    }
    return fetched.error();
  }

  void WatchLoop() {
    // A little jitter so a fleet of clients does not start watching at the same instant.
    thread_local std::minstd_rand rng{std::random_device{}()};
    int attempt = 0;
    std::unique_lock lock(life_mu_);
    life_cv_.wait_for(lock, std::chrono::milliseconds(rng() % 100), [&] { return stopping_; });
    while (!stopping_) {
      lock.unlock();
      auto w = inner_->Watch(WatchOptions{});
      lock.lock();
      if (stopping_) break;
      if (!w.ok()) {
        // Back off 10^attempt ms (capped), as go-micro does.
        auto backoff = std::chrono::milliseconds(attempt >= 4 ? 10000 : int(std::pow(10, attempt)));
        ++attempt;
        life_cv_.wait_for(lock, backoff, [&] { return stopping_; });
        continue;
      }
      attempt = 0;
      watcher_ = std::move(*w);
      registry::Watcher* watcher = watcher_.get();
      lock.unlock();
      {
        // Changes made before the watch began were never seen: look everything up afresh.
        std::lock_guard entries(mu_);
        entries_.clear();
      }
      for (;;) {
        auto ev = watcher->Next(std::chrono::seconds(1));
        if (!ev.ok()) {
          if (ev.error().code == 408) continue;
          break;  // stopped: the registry went away or we are shutting down
        }
        Apply(*ev);
      }
      lock.lock();
      watcher_.reset();
      if (!stopping_) {
        life_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
      }
    }
  }

  // Applies a watch event to an already-cached service (others are ignored): the new
  // snapshot is built outside the lock and swapped in if nothing replaced the old one
  // meanwhile (else the event is applied again to what did).
  void Apply(const Event& ev) {
    for (;;) {
      SnapshotPtr base;
      {
        std::shared_lock lock(mu_);
        auto it = entries_.find(ev.service.name);
        if (it == entries_.end()) return;
        base = it->second.snap;
      }
      Services versions = base->services;
      if (!ApplyEvent(versions, ev)) return;
      SnapshotPtr next = versions.empty() ? nullptr : MakeSnapshot(base->name, std::move(versions));
      std::lock_guard lock(mu_);
      auto it = entries_.find(ev.service.name);
      if (it == entries_.end()) return;
      if (it->second.snap != base) continue;
      if (next)
        it->second.snap = std::move(next);
      else
        entries_.erase(it);
      return;
    }
  }

  const std::shared_ptr<Registry> inner_;
  const CacheOptions options_;

  // The service table and the lookups in flight. Readers share it; writers hold it briefly.
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::map<std::string, std::vector<LookupCallback>, std::less<>> inflight_;

  // Threads: the watch and the asynchronous lookups.
  std::mutex life_mu_;
  std::condition_variable life_cv_;
  bool stopping_ = false;
  std::unique_ptr<registry::Watcher> watcher_;
  std::thread watch_thread_;
  std::list<std::thread> lookups_;  // running lookups
};

}  // namespace

Result<std::shared_ptr<RegistryCache>> NewCache(std::shared_ptr<Registry> inner,
                                                CacheOptions options) {
  if (!inner) return errors::BadRequest(error_ids::kRegistry, "registry cache: no registry");
  return std::shared_ptr<RegistryCache>(std::make_shared<CacheRegistry>(std::move(inner), options));
}

}  // namespace micro
