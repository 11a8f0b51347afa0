// A deadline that can be moved cheaply: one steady_timer per watchdog, re-armed only when the
// deadline moves earlier. When the deadline passes, `fire` runs on the timer's executor.
#pragma once

#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <utility>

#include "micro/context.h"

namespace micro::transport_detail {

class Watchdog {
 public:
  Watchdog(const asio::any_io_executor& ex, std::function<void()> fire)
      : timer_(ex), fire_(std::move(fire)) {}

  // The object whose lifetime guards fire (a timer handler never runs fire after it died).
  void SetOwner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  // Fire at tp (replaces any earlier deadline).
  void ArmAt(TimePoint tp) {
    deadline_ = tp;
    if (!waiting_ || tp < timer_.expiry()) Wait(tp);
  }
  // Fire after d; a zero or negative d disarms.
  void Arm(Duration d) {
    if (d <= Duration::zero()) {
      Disarm();
    } else {
      ArmAt(Clock::now() + d);
    }
  }
  void Disarm() { deadline_ = TimePoint::max(); }
  // Disarms and releases the timer's pending wait.
  void Cancel() {
    deadline_ = TimePoint::max();
    waiting_ = false;
    timer_.cancel();
  }
  bool armed() const { return deadline_ != TimePoint::max(); }

 private:
  void Wait(TimePoint tp) {
    timer_.expires_at(tp);  // a pending wait completes with operation_aborted
    waiting_ = true;
    timer_.async_wait([this, owner = owner_](std::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      const auto alive = owner.lock();
      if (!alive) return;
      waiting_ = false;
      if (deadline_ == TimePoint::max()) return;
      if (Clock::now() >= deadline_) {
        deadline_ = TimePoint::max();
        fire_();
      } else {
        Wait(deadline_);
      }
    });
  }

  asio::steady_timer timer_;
  std::function<void()> fire_;
  std::weak_ptr<void> owner_;
  TimePoint deadline_ = TimePoint::max();
  bool waiting_ = false;
};

}  // namespace micro::transport_detail
