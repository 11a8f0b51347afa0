// A queue filled from any thread (nats.c's) and drained by one coroutine on an asio executor.
//
// Wake-ups go through a one-slot concurrent_channel used as a doorbell: a ring that arrives
// before the consumer starts waiting stays in the slot, so no wake-up is lost whatever the
// executor (strand or multi-threaded). The queue holds no timers or sockets, so its last
// reference may safely be dropped on a nats.c thread.
#pragma once

#include <micro/context.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

namespace micro::nats_detail {

template <class T>
class AsyncQueue : public std::enable_shared_from_this<AsyncQueue<T>> {
 public:
  explicit AsyncQueue(asio::any_io_executor ex) : ex_(ex), bell_(ex, 1) {}

  // Any thread. False when closed.
  bool Push(T value) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      q_.push_back(std::move(value));
    }
    Ring();
    return true;
  }

  // Any thread. Pop returns what is queued, then kClosed.
  void Close() {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      closed_ = true;
    }
    Ring();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  enum class PopStatus { kOk, kClosed, kTimeout };

  // On the queue's executor, one consumer at a time. A zero timeout waits forever.
  asio::awaitable<PopStatus> Pop(T& out, Duration timeout) {
    std::optional<asio::steady_timer> timer;
    const TimePoint deadline =
        timeout > Duration::zero() ? Clock::now() + timeout : TimePoint::max();
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (!q_.empty()) {
          out = std::move(q_.front());
          q_.pop_front();
          co_return PopStatus::kOk;
        }
        if (closed_) co_return PopStatus::kClosed;
      }
      if (Clock::now() >= deadline) co_return PopStatus::kTimeout;
      if (!timer && deadline != TimePoint::max()) {
        // The timer rings the bell too; it captures only a weak reference (it may fire
        // after Pop returned, and a stale ring merely costs the next Pop one extra check).
        timer.emplace(ex_, deadline);
        timer->async_wait([w = this->weak_from_this()](std::error_code ec) {
          if (ec) return;
          if (auto self = w.lock()) self->Ring();
        });
      }
      (void)co_await bell_.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
    }
  }

 private:
  void Ring() { (void)bell_.try_send(std::error_code{}, 0); }

  asio::any_io_executor ex_;
  // (std::error_code, int): void(std::error_code) alone is ambiguous in asio 1.22's channels.
  asio::experimental::concurrent_channel<void(std::error_code, int)> bell_;
  mutable std::mutex mu_;
  std::deque<T> q_;
  bool closed_ = false;
};

}  // namespace micro::nats_detail
