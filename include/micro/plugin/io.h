// Threads and executors for plugin code: an owned I/O thread, running a coroutine to completion
// from a plain thread, and strands.
//
// Registries are called from plain threads (their interface is blocking) while the library's
// clients (micro::http::Client) and transports are asynchronous: a plugin typically owns one
// IoThread and bridges with RunBlocking. Transports and brokers that get callbacks on threads
// of their own (a C client library's) hand work over with asio::post or AsyncQueue
// (<micro/plugin/async_queue.h>) and never touch asio objects on those threads.
#pragma once

#include <micro/errors.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/execution/context.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/query.hpp>
#include <asio/strand.hpp>
#include <atomic>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace micro::plugin {

// An io_context run by one background thread (named "micro-io-own"), created running. Ownership:
// shared; the thread is stopped and joined when the last owner lets go, also when that owner
// is a handler running on the thread itself (the join then happens on a short-lived helper
// thread). Pending handlers are destroyed, not run, at that point.
class IoThread {
 public:
  static std::shared_ptr<IoThread> Create();
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::any_io_executor executor() { return context_.get_executor(); }

 private:
  IoThread();
  asio::io_context context_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

// True when the calling thread is running ex's io_context (directly or through a strand): a
// blocking wait for work on ex would then deadlock.
bool RunningInThisThread(const asio::any_io_executor& ex);

// Runs aw on ex and blocks the calling thread until it completes. T must be constructible from
// micro::Error (a Result<>): an escaping exception becomes InternalServerError(error_id, what).
// Must not be called on one of ex's threads (check RunningInThisThread when unsure).
template <class T>
T RunBlocking(const asio::any_io_executor& ex, asio::awaitable<T> aw, std::string_view error_id) {
  std::promise<T> promise;
  auto future = promise.get_future();
  asio::co_spawn(ex, std::move(aw), [&promise, error_id](std::exception_ptr e, T value) {
    if (!e) {
      promise.set_value(std::move(value));
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& thrown) {
      promise.set_value(T(errors::InternalServerError(std::string(error_id), thrown.what())));
    } catch (...) {
      promise.set_value(T(errors::InternalServerError(std::string(error_id), "unknown exception")));
    }
  });
  return future.get();
}

// Marks an io_context that only one thread ever runs (a Runtime of one thread, an IoThread).
// Everything on it is serialised without strands.
class OneThreadMark final : public asio::execution_context::service {
 public:
  using key_type = OneThreadMark;
  static inline asio::execution_context::id id;
  explicit OneThreadMark(asio::execution_context& ctx) : service(ctx) {}

 private:
  void shutdown() override {}
};

inline void MarkOneThread(asio::io_context& ctx) {
  if (!asio::has_service<OneThreadMark>(ctx)) asio::make_service<OneThreadMark>(ctx);
}

// A strand over ex, type-erased: what a connection or other long-lived object serialises its
// handlers on. On an io_context that only one thread runs (every Runtime loop, an IoThread:
// MarkOneThread) that is ex itself, no strand: its handlers are serialised already, and a
// strand would only add a lock and a queue to every completion. Otherwise a strand: one over
// io_context's own executor fits in any_io_executor's small buffer (no allocation), a strand
// over an any_io_executor does not (two allocations per copy, several copies per call).
// A caller must not rely on a strand's one difference: dispatch to ex from inside another
// handler on the same thread runs inline where a busy strand would queue.
inline asio::any_io_executor MakeStrand(const asio::any_io_executor& ex) {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) {
    if (asio::has_service<OneThreadMark>(io->context())) return ex;
    return asio::make_strand(*io);
  }
  return asio::make_strand(ex);
}

// The I/O loops of one Runtime: one io_context per thread. Installed on each of them by the
// Runtime before its threads start, read-only afterwards.
class LoopGroup final : public asio::execution_context::service {
 public:
  using key_type = LoopGroup;
  static inline asio::execution_context::id id;
  explicit LoopGroup(asio::execution_context& ctx) : service(ctx) {}

  std::shared_ptr<const std::vector<asio::io_context*>> loops;
  std::shared_ptr<std::atomic<std::size_t>> next;  // round robin, shared by the loops

 private:
  void shutdown() override {}
};

// For a new long-lived object (an accepted or dialled connection): an executor of the next I/O
// loop of ex's Runtime, round robin, so connections spread over the Runtime's threads and each
// stays on one thread. ex itself when its io_context is not one of a Runtime's loops.
inline asio::any_io_executor Spread(const asio::any_io_executor& ex) {
  auto& ctx = asio::query(ex, asio::execution::context);
  if (!asio::has_service<LoopGroup>(ctx)) return ex;
  const auto& group = asio::use_service<LoopGroup>(ctx);
  const auto& loops = *group.loops;
  return loops[group.next->fetch_add(1, std::memory_order_relaxed) % loops.size()]->get_executor();
}

// True when a and b run on the same Runtime (the same loop group, or the same io_context).
inline bool SameRuntime(const asio::any_io_executor& a, const asio::any_io_executor& b) {
  auto& ca = asio::query(a, asio::execution::context);
  auto& cb = asio::query(b, asio::execution::context);
  if (&ca == &cb) return true;
  return asio::has_service<LoopGroup>(ca) && asio::has_service<LoopGroup>(cb) &&
         asio::use_service<LoopGroup>(ca).loops == asio::use_service<LoopGroup>(cb).loops;
}

// True when a and b run on the same io_context and only one thread runs it: code running on
// a may then use objects bound to b (a strand included) without hopping to b.
inline bool OnSameSingleThread(const asio::any_io_executor& a, const asio::any_io_executor& b) {
  auto& ca = asio::query(a, asio::execution::context);
  return &ca == &asio::query(b, asio::execution::context) && asio::has_service<OneThreadMark>(ca);
}

}  // namespace micro::plugin
