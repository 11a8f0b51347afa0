#include "micro/context.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace micro {

// Shared by every copy of a Context; children hold a callback on their parent.
struct Context::State {
  std::optional<TimePoint> deadline;
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  uint64_t next_id = 1;
  std::vector<std::pair<uint64_t, std::function<void()>>> callbacks;  // guarded by mu

  // Unregisters this state from its parent when it goes away.
  std::shared_ptr<State> parent;
  uint64_t parent_callback = 0;

  ~State() {
    if (parent && parent_callback) RemoveCallback(*parent, parent_callback);
  }

  static void RemoveCallback(State& s, uint64_t id) {
    std::lock_guard lock(s.mu);
    auto& cbs = s.callbacks;
    cbs.erase(std::remove_if(cbs.begin(), cbs.end(), [id](auto& p) { return p.first == id; }),
              cbs.end());
  }

  void Cancel() {
    std::vector<std::pair<uint64_t, std::function<void()>>> run;
    {
      std::lock_guard lock(mu);
      if (cancelled.exchange(true)) return;
      run.swap(callbacks);
    }
    for (auto& [id, fn] : run) fn();
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
    if (!state_->cancelled.load()) {
      const uint64_t id = state_->next_id++;
      state_->callbacks.emplace_back(id, std::move(fn));
      return id;
    }
  }
  fn();
  return 0;
}

void Context::RemoveOnCancel(uint64_t id) const {
  if (id != 0) State::RemoveCallback(*state_, id);
}

}  // namespace micro
