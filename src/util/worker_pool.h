// Threads the library starts: a name for each (so `top -H`, gdb and /proc/self/task/*/comm
// tell them apart) and the elastic worker pool that runs blocking work (sync handlers, broker
// deliveries, registration).
//
// Thread names in use (at most 15 characters, Linux's limit):
//   micro-io        Runtime's I/O threads
//   micro-io-own    an IoThread (a transport, broker or HTTP client given no executor)
//   micro-handler   the server's handler pool          micro-broker   the HTTP broker's pool
//   micro-mdns      the mDNS registry                   micro-mem-reg  the memory registry pruner
//   micro-cache     the registry cache's watch          micro-bk-reg   the HTTP broker registrar
//   micro-outbox    the HTTP broker's dispatcher
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "micro/context.h"

namespace micro::util {

// Names the calling thread (truncated to 15 characters).
void SetThreadName(const char* name);

// A pool of threads for blocking work, started lazily and grown on demand.
//
// - Post(fn): bounded work. At most max_threads such tasks run at once; more wait in FIFO
//   order. A thread is started only when a task arrives and no thread is idle, so an unused
//   pool has no threads and a pool that serves one call at a time has one.
// - PostLong(fn): work that may block for a long or unbounded time (a sync stream handler
//   waiting for its client, a registration round trip). It runs at once, on an idle thread or
//   a new one, and does not count against max_threads: open streams never starve Post.
// - Threads beyond max_threads that stay idle for idle_timeout exit; the first max_threads
//   threads stay once started.
//
// Threading: Post, PostLong and Join are thread-safe. Tasks must not throw (an exception
// ends the process, as in a std::thread). Join waits for every task, queued ones included, and
// for every thread to exit; the pool stays usable afterwards. The destructor joins; it must not
// run on one of the pool's threads.
class WorkerPool {
 public:
  WorkerPool(std::size_t max_threads, std::string thread_name,
             Duration idle_timeout = std::chrono::seconds(10));
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  template <class Fn>
  void Post(Fn&& fn) {
    Submit(MakeTask(std::forward<Fn>(fn)), false);
  }
  template <class Fn>
  void PostLong(Fn&& fn) {
    Submit(MakeTask(std::forward<Fn>(fn)), true);
  }

  void Join();

  std::size_t max_threads() const { return max_; }
  // Threads alive now (for tests and diagnostics).
  std::size_t threads() const;

  // A type-erased, move-only task (std::function needs copyable targets; a completion handler
  // is move-only).
  struct Task {
    virtual ~Task() = default;
    virtual void Run() = 0;
  };

 private:
  template <class Fn>
  struct TaskOf final : Task {
    explicit TaskOf(Fn f) : fn(std::move(f)) {}
    void Run() override { fn(); }
    Fn fn;
  };
  template <class Fn>
  static std::unique_ptr<Task> MakeTask(Fn&& fn) {
    return std::make_unique<TaskOf<std::decay_t<Fn>>>(std::forward<Fn>(fn));
  }

  struct Worker;
  void Submit(std::unique_ptr<Task> task, bool unbounded);
  void Spawn(std::unique_ptr<Task> task, bool unbounded);  // under mu_
  void Loop(Worker* self, std::unique_ptr<Task> task, bool unbounded);

  const std::size_t max_;
  const std::string name_;
  const Duration idle_timeout_;

  mutable std::mutex mu_;
  std::condition_variable all_exited_;
  std::deque<std::unique_ptr<Task>> queue_;  // bounded tasks waiting for a free slot
  std::vector<Worker*> idle_;                // idle threads, most recently idle last
  std::size_t threads_ = 0;
  std::size_t busy_bounded_ = 0;
  bool joining_ = false;
};

}  // namespace micro::util
