// micro::Context: deadline, cancellation and metadata for one call, as Go's context.Context
// plus go-micro's metadata.
//
//   micro::Context ctx = micro::Context::WithTimeout(2s);
//   ctx.metadata().Set("Authorization", "Bearer x");   // travels as a header
//   auto child = ctx.Child();   // cancelled when ctx is; may have a tighter deadline
//
// Copies share the cancellation state (cancelling one cancels all copies and children) but
// each copy owns its metadata (value semantics, as go-micro's metadata.FromContext copies).
//
// Threading: Cancel(), cancelled(), Done(), Err() and OnCancel() may be called from any
// thread. metadata() is not synchronised: one thread at a time per Context object.
#pragma once

#include <micro/metadata.h>
#include <micro/status.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

namespace micro {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

class Context {
 public:
  // A background context: no deadline, never cancelled until Cancel() is called.
  Context();

  static Context Background() { return Context(); }
  static Context WithTimeout(Duration timeout);
  static Context WithDeadline(TimePoint deadline);

  // A child: cancelled when this one is cancelled; its deadline is the earlier of this one's
  // and the one given. Metadata is copied.
  Context Child(std::optional<TimePoint> deadline = std::nullopt) const;
  Context ChildWithTimeout(Duration timeout) const { return Child(Clock::now() + timeout); }

  // The deadline, if any.
  std::optional<TimePoint> deadline() const;
  // Time left until the deadline (zero if past), or nullopt when there is none.
  std::optional<Duration> remaining() const;

  // Cancels this context, every copy of it and every child. Idempotent.
  void Cancel() const;
  // Explicitly cancelled (directly or through a parent)?
  bool cancelled() const;
  // Cancelled or past its deadline.
  bool Done() const;
  // Ok while not Done(); else a 408 Error (id "go.micro.context") whose detail is Go's text:
  // "context canceled" or "context deadline exceeded" (go-micro reports both as timeouts).
  Status Err() const;

  // Runs fn once when the context is cancelled (immediately, on this thread, if it already
  // is). Deadlines do not trigger callbacks by themselves: timers that watch deadlines call
  // Cancel(). Returns an id for RemoveOnCancel. fn must not throw.
  uint64_t OnCancel(std::function<void()> fn) const;
  void RemoveOnCancel(uint64_t id) const;

  Metadata& metadata() { return metadata_; }
  const Metadata& metadata() const { return metadata_; }

 private:
  struct State;
  Context(std::shared_ptr<State> state, Metadata md);

  std::shared_ptr<State> state_;
  Metadata metadata_;
};

}  // namespace micro
