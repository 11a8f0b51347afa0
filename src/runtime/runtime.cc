#include "micro/runtime.h"

#include <sched.h>

#include <algorithm>

#include "micro/plugin/io.h"
#include "runtime/allocator_tuning.h"
#include "util/exit_guard.h"
#include "util/worker_pool.h"

namespace micro {
namespace {
thread_local bool t_in_io_thread = false;
}  // namespace

std::size_t Runtime::Cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// (The concurrency hint lets asio skip work a single-threaded io_context does not need.)
Runtime::Runtime(std::size_t threads)
    : io_(static_cast<int>(threads == 0 ? Cpus() : threads)), work_(asio::make_work_guard(io_)) {
  runtime_detail::TuneAllocator();
  if (threads == 0) threads = Cpus();
  if (threads == 1) plugin::MarkOneThread(io_);
  // Stopped, and its threads joined, when the process exits.
  util::TrackIoContext(io_, [this] {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  });
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      util::IoThreadScope scope;
      t_in_io_thread = true;
      util::SetThreadName("micro-io");
      io_.run();
    });
  }
}

Runtime::~Runtime() {
  work_.reset();
  io_.stop();
  util::UntrackIoContext(io_);  // first: the exit handler may have joined them already
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

asio::any_io_executor Runtime::executor() { return io_.get_executor(); }

Runtime& Runtime::Default() {
  // Never destroyed (its executor stays valid in static destructors); its threads are stopped
  // when the process exits (util/exit_guard.h), so none outlives main.
  static Runtime* runtime = new Runtime();
  return *runtime;
}

bool Runtime::InIoThread() { return t_in_io_thread; }

}  // namespace micro
