#include "micro/context.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace micro {

// Shared by every copy of a Context; children are registered on their parent.
struct Context::State {
  // What runs when the context is cancelled: an OnCancel function, or the cancellation of a
  // child (held weakly: a child must not be kept alive by its parent's list).
  struct Callback {
    uint64_t id = 0;  // 0: the slot is free
    std::function<void()> fn;
    std::weak_ptr<State> child;

    void Run() {
      if (fn) {
        fn();
      } else if (auto c = child.lock()) {
        c->Cancel();
      }
    }
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

  // Registers c and returns its id; when already cancelled, runs it now and returns 0.
  uint64_t Add(Callback c) {
    {
      std::lock_guard lock(mu);
      if (!cancelled.load()) {
        const uint64_t id = next_id++;
        c.id = id;
        if (first.id == 0) {
          first = std::move(c);
        } else {
          more.push_back(std::move(c));
        }
        return id;
      }
    }
    c.Run();
    return 0;
  }

  static void RemoveCallback(State& s, uint64_t id) {
    Callback removed;  // destroyed after the lock is released
    std::lock_guard lock(s.mu);
    if (s.first.id == id) {
      std::swap(removed, s.first);
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
    if (one.id != 0) one.Run();
    for (auto& c : rest) c.Run();
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
  State::Callback link;
  link.child = child;
  child->parent_callback = state_->Add(std::move(link));
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
  State::Callback callback;
  callback.fn = std::move(fn);
  return state_->Add(std::move(callback));
}

void Context::RemoveOnCancel(uint64_t id) const {
  if (id != 0) State::RemoveCallback(*state_, id);
}

}  // namespace micro
