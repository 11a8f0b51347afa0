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

// An io_context's destructor first destroys the handlers still queued on it, then its services.
// Handlers on one loop may own objects bound to another loop (a listener's strand on the
// first loop, held by a connection's coroutine on the second): every loop's queued handlers
// must be gone before any loop's services are, so ~Runtime runs that first phase on all of
// them before destroying any.
class Runtime::Loop : public asio::io_context {
 public:
  Loop() : asio::io_context(1) {}
  using asio::io_context::shutdown;
};

std::size_t Runtime::Cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Each loop's concurrency hint of 1 lets asio skip the locking a shared io_context needs.
Runtime::Runtime(std::size_t threads) {
  runtime_detail::TuneAllocator();
  if (threads == 0) threads = Cpus();
  auto all = std::make_shared<std::vector<asio::io_context*>>();
  for (std::size_t i = 0; i < threads; ++i) {
    loops_.push_back(std::make_unique<Loop>());
    all->push_back(loops_.back().get());
    work_.push_back(asio::make_work_guard(*loops_.back()));
  }
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    auto& loop = *loops_[i];
    plugin::MarkOneThread(loop);
    if (threads > 1) {
      auto& group = asio::make_service<plugin::LoopGroup>(loop);
      group.loops = all;
      group.next = next;
    }
    // Stopped, and its thread joined, when the process exits.
    util::TrackIoContext(loop, [this, i] {
      if (i < threads_.size() && threads_[i].joinable()) threads_[i].join();
    });
  }
  for (auto& loop : loops_) {
    threads_.emplace_back([io = loop.get()] {
      util::IoThreadScope scope;
      t_in_io_thread = true;
      util::SetThreadName("micro-io");
      io->run();
    });
  }
}

Runtime::~Runtime() {
  work_.clear();
  for (auto& loop : loops_) loop->stop();
  // Untracked first: the exit handler may have joined the threads already.
  for (auto& loop : loops_) util::UntrackIoContext(*loop);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  for (auto& loop : loops_) loop->shutdown();  // every loop's handlers, then (below) services
  loops_.clear();
}

asio::io_context& Runtime::context() { return *loops_.front(); }

asio::any_io_executor Runtime::executor() { return loops_.front()->get_executor(); }

Runtime& Runtime::Default() {
  // Never destroyed (its executor stays valid in static destructors); its threads are stopped
  // when the process exits (util/exit_guard.h), so none outlives main.
  static Runtime* runtime = new Runtime();
  return *runtime;
}

bool Runtime::InIoThread() { return t_in_io_thread; }

}  // namespace micro
