// A queue filled from any thread and drained by one coroutine on an asio executor: how a
// transport or broker hands messages from threads it does not own (a C client library's
// callbacks) to coroutines. The memory transport's connections and the NATS plugin use it.
//
// Threading: Push, Close and closed from any thread; Pop from one coroutine at a time (the
// consumer's wait runs on that coroutine's executor). Ownership: hold it in a shared_ptr shared by
// producer and consumer.
//
// The consumer waits on a steady_timer (its deadline). Pushes set `rung_` and cancel that
// timer under the queue's mutex, and the consumer starts its wait under the same mutex (in the
// async operation's initiation), so a push can never slip in between "queue empty" and "wait
// started", whatever the executor (strand or multi-threaded). The queue itself holds no asio
// objects, so its last reference may be dropped on any thread, also after the consumer's
// io_context is gone (the consumer's timer lives in the Pop frame).
#pragma once

#include <micro/context.h>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

namespace micro::plugin {

template <class T>
class AsyncQueue {
 public:
  AsyncQueue() = default;

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

  // From one consumer coroutine at a time, on its own executor. A zero timeout waits forever.
  asio::awaitable<PopStatus> Pop(T& out, Duration timeout) {
    const TimePoint deadline =
        timeout > Duration::zero() ? Clock::now() + timeout : TimePoint::max();
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    // Forgets the timer before it goes, also when the frame is destroyed while suspended
    // (an io_context shut down with the wait pending).
    struct Unwait {
      AsyncQueue* q;
      ~Unwait() {
        std::lock_guard lock(q->mu_);
        q->waiting_ = nullptr;
      }
    } unwait{this};
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (!q_.empty()) {
          out = std::move(q_.front());
          q_.pop_front();
          co_return PopStatus::kOk;
        }
        if (closed_) co_return PopStatus::kClosed;
        rung_ = false;
      }
      if (Clock::now() >= deadline) co_return PopStatus::kTimeout;
      co_await Wait(timer);
    }
  }

 private:
  // Completes when rung (or closed) or at the timer's deadline. The wait is started under mu_,
  // so Ring cannot run between the caller's check and the start of the wait.
  asio::awaitable<void> Wait(asio::steady_timer& timer) {
    // as_tuple: a cancelled wait (the ring) is not an exception.
    constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
    (void)co_await asio::async_initiate<decltype(kNoThrow), void(std::error_code)>(
        [this, &timer](auto handler) {
          std::unique_lock lock(mu_);
          if (rung_) {
            lock.unlock();
            asio::post(timer.get_executor(),
                       [h = std::move(handler)]() mutable { h(std::error_code{}); });
            return;
          }
          waiting_ = &timer;
          timer.async_wait(std::move(handler));
        },
        kNoThrow);
    std::lock_guard lock(mu_);
    waiting_ = nullptr;
  }

  void Ring() {
    std::lock_guard lock(mu_);
    rung_ = true;
    if (waiting_) waiting_->cancel();
  }

  mutable std::mutex mu_;
  std::deque<T> q_;
  bool closed_ = false;
  bool rung_ = false;
  asio::steady_timer* waiting_ = nullptr;  // the consumer's timer while it waits
};

}  // namespace micro::plugin
