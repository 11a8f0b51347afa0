#include "micro/context.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace micro {

// Shared by every copy of a Context; children hold a callback on their parent.
struct Context::State {
  struct Callback {
    uint64_t id = 0;  // 0: the slot is free
    std::function<void()> fn;
  };

  std::optional<TimePoint> deadline;
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  uint64_t next_id = 1;
  // Guarded by mu. A context almost always has at most one callback at a time (its child, or
  // the socket of the call in progress): that one lives in `first`, so registering it does not
  // allocate; any others go to `more`. They run in no particular order.
  Callback first;
  std::vector<Callback> more;

  // Unregisters this state from its parent when it goes away.
  std::shared_ptr<State> parent;
  uint64_t parent_callback = 0;

  ~State() {
    if (parent && parent_callback) RemoveCallback(*parent, parent_callback);
  }

  uint64_t AddCallbackLocked(std::function<void()> fn) {
    const uint64_t id = next_id++;
    if (first.id == 0) {
      first = {id, std::move(fn)};
    } else {
      more.push_back({id, std::move(fn)});
    }
    return id;
  }

  static void RemoveCallback(State& s, uint64_t id) {
    std::function<void()> removed;  // destroyed after the lock is released
    std::lock_guard lock(s.mu);
    if (s.first.id == id) {
      s.first.id = 0;
      removed.swap(s.first.fn);
      return;
    }
    auto& more = s.more;
    more.erase(std::remove_if(more.begin(), more.end(), [id](auto& c) { return c.id == id; }),
               more.end());
  }

  void Cancel() {
    Callback one;
    std::vector<Callback> rest;
    {
      std::lock_guard lock(mu);
      if (cancelled.exchange(true)) return;
      std::swap(one, first);
      rest.swap(more);
    }
    if (one.id != 0) one.fn();
    for (auto& c : rest) c.fn();
  }
};

Context::Context() : state_(std::make_shared<State>()) {}

Context::Context(std::shared_ptr<State> state, Metadata md)
    : state_(std::move(state)), metadata_(std::move(md)) {}

Context Context::WithTimeout(Duration timeout) { return WithDeadline(Clock::now() + timeout); }

Context Context::WithDeadline(TimePoint deadline) {
  Context ctx;
  ctx.state_->deadline = deadline;
  return ctx;
}

Context Context::Child(std::optional<TimePoint> deadline) const {
  auto child = std::make_shared<State>();
  child->deadline = state_->deadline;
  if (deadline && (!child->deadline || *deadline < *child->deadline)) child->deadline = deadline;
  // The child must not keep itself alive through the parent's callback list.
  std::weak_ptr<State> weak = child;
  child->parent_callback = OnCancel([weak] {
    if (auto s = weak.lock()) s->Cancel();
  });
  child->parent = state_;
  return Context(std::move(child), metadata_);
}

std::optional<TimePoint> Context::deadline() const { return state_->deadline; }

std::optional<Duration> Context::remaining() const {
  if (!state_->deadline) return std::nullopt;
  const auto left = *state_->deadline - Clock::now();
  return left > Duration::zero() ? left : Duration::zero();
}

void Context::Cancel() const { state_->Cancel(); }

bool Context::cancelled() const { return state_->cancelled.load(std::memory_order_acquire); }

bool Context::Done() const {
  return cancelled() || (state_->deadline && Clock::now() >= *state_->deadline);
}

Status Context::Err() const {
  if (cancelled()) return errors::Timeout(error_ids::kContext, "context canceled");
  if (state_->deadline && Clock::now() >= *state_->deadline) {
    return errors::Timeout(error_ids::kContext, "context deadline exceeded");
  }
  return {};
}

uint64_t Context::OnCancel(std::function<void()> fn) const {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->cancelled.load()) return state_->AddCallbackLocked(std::move(fn));
  }
  fn();
  return 0;
}

void Context::RemoveOnCancel(uint64_t id) const {
  if (id != 0) State::RemoveCallback(*state_, id);
}

}  // namespace micro
