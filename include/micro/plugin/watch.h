// Watches for registry plugins: a bounded, thread-safe event queue behind a registry::Watcher.
// A registry keeps a (weak) reference per watcher and Push()es events from whatever thread
// learns of them; the Watcher handed to the caller pops them (Next blocks its caller up to the
// timeout). WatchList lets a registry stop every watch it handed out when it goes.
//
//   auto queue = std::make_shared<micro::plugin::WatchQueue>(options.service);
//   watches_.Add(state);   // state has `Context ctx` and `std::shared_ptr<WatchQueue> queue`
//   return std::make_unique<micro::plugin::QueueWatcher>(queue);
//
// Errors: Pop/Next return ErrWatcherStopped() once stopped, a 408 Timeout when nothing arrived.
#pragma once

#include <micro/error_ids.h>
#include <micro/registry.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

namespace micro::plugin {

using registry::ErrWatcherStopped;
using registry::Event;
using registry::Watcher;

class WatchQueue {
 public:
  explicit WatchQueue(std::string service, size_t capacity = 256)
      : service_(std::move(service)), capacity_(capacity) {}

  // Whether this watcher wants events of `name`.
  bool Wants(std::string_view name) const { return service_.empty() || service_ == name; }

  // Drops the oldest event when full (a slow reader must not stall the registry).
  void Push(Event event) {
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      if (events_.size() >= capacity_) events_.pop_front();
      events_.push_back(std::move(event));
    }
    cv_.notify_one();
  }

  Result<Event> Pop(Duration timeout) {
    // Wait in slices of at most a minute: very long single waits overflow clock arithmetic
    // (Duration::max()) or misbehave under sanitizers.
    const TimePoint start = Clock::now();
    const Duration limit = std::min<Duration>(timeout, std::chrono::hours(24 * 365 * 100));
    std::unique_lock lock(mu_);
    for (;;) {
      if (stopped_ || !events_.empty()) break;
      const Duration left = limit - (Clock::now() - start);
      if (left <= Duration::zero()) break;
      cv_.wait_for(lock, std::min<Duration>(left, std::chrono::minutes(1)));
    }
    if (stopped_) return ErrWatcherStopped();
    if (events_.empty()) return errors::Timeout(error_ids::kRegistry, "watch timeout");
    Event e = std::move(events_.front());
    events_.pop_front();
    return e;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      events_.clear();
    }
    cv_.notify_all();
  }

  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  const std::string service_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  bool stopped_ = false;
};

// The Watcher given to callers: pops from a queue; Stop() also runs on_stop (e.g. to let the
// registry forget the queue).
class QueueWatcher : public Watcher {
 public:
  QueueWatcher(std::shared_ptr<WatchQueue> queue, std::function<void()> on_stop = {})
      : queue_(std::move(queue)), on_stop_(std::move(on_stop)) {}
  ~QueueWatcher() override { Stop(); }

  Result<Event> Next(Duration timeout) override { return queue_->Pop(timeout); }
  void Stop() override {
    queue_->Stop();
    if (on_stop_) std::exchange(on_stop_, nullptr)();
  }

 private:
  std::shared_ptr<WatchQueue> queue_;
  std::function<void()> on_stop_;
};

// The watches a remote registry has handed out, weakly held, so that the registry can stop
// them all when it goes. State has `Context ctx` (cancels its background loop) and
// `std::shared_ptr<WatchQueue> queue`. Thread-safe.
template <class State>
class WatchList {
 public:
  void Add(const std::shared_ptr<State>& watch) {
    std::lock_guard lock(mu_);
    std::erase_if(watches_, [](const auto& w) { return w.expired(); });
    watches_.push_back(watch);
  }

  // Cancels every live watch's loop and stops its queue (its Watcher then returns
  // ErrWatcherStopped).
  void StopAll() {
    std::lock_guard lock(mu_);
    for (auto& w : watches_) {
      if (auto s = w.lock()) {
        s->ctx.Cancel();
        s->queue->Stop();
      }
    }
  }

 private:
  std::mutex mu_;
  std::list<std::weak_ptr<State>> watches_;
};

}  // namespace micro::plugin
