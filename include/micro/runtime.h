// micro::Runtime: the I/O threads that run sockets, timers and coroutine handlers.
//
// N I/O loops (default: the CPUs it may run on), each an io_context run by one thread, as brpc
// and Seastar do: a connection lives on one loop, so its reads, writes and coroutine handlers
// never hop between threads and need no locks. Listeners spread new connections over the loops
// (plugin::Spread); calls a handler makes stay on its loop. A Service creates one and hands its
// executor to the transport, server and client; code that builds parts by hand may share
// Runtime::Default(). Sync handlers never run here: servers run them on a separate handler
// pool, so a blocking handler cannot stall I/O. Code on a loop must never block waiting for
// other work on the same loop.
//
// Threading: all methods are thread-safe. InIoThread() tells whether the calling thread is one
// of any Runtime's I/O threads; blocking APIs use it to refuse (with an error) a call that would
// block an I/O thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace micro {

class Runtime {
 public:
  // threads == 0: Cpus(), the CPUs this process may run on (so a server pinned with taskset
  // to one core runs one I/O thread, not one per core of the machine).
  explicit Runtime(std::size_t threads = 0);
  // Stops the io_context and joins the threads. Must not be called from an I/O thread.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The first loop's executor (plugin::Spread(executor()) gives the next loop's).
  asio::any_io_executor executor();
  // The first loop's io_context, for objects that need one. Only this Runtime's threads may
  // run it; every loop is marked single-threaded, so the library skips strand hops on it.
  asio::io_context& context();
  std::size_t threads() const { return threads_.size(); }

  // A process-wide runtime, started on first use and never destroyed; its threads are stopped
  // when the process exits (after main returns, before static destruction reaches what they
  // use), as are every Runtime's and transport's own I/O threads: none outlives main. Handlers
  // posted after that do not run, so static destructors must not wait for I/O.
  static Runtime& Default();
  // CPUs in this process's affinity mask (at least 1; hardware_concurrency() if unknown).
  static std::size_t Cpus();
  // True on a thread run by any Runtime.
  static bool InIoThread();

 private:
  class Loop;  // an io_context whose shutdown phase the Runtime can run early
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

}  // namespace micro
