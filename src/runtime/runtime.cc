#include "micro/runtime.h"

#include <sched.h>

#include <algorithm>

#include "micro/plugin/io.h"
#include "runtime/allocator_tuning.h"
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

// Each loop's concurrency hint of 1 lets asio skip the locking a shared io_context needs.
Runtime::Runtime(std::size_t threads) {
  runtime_detail::TuneAllocator();
  if (threads == 0) threads = Cpus();
  auto all = std::make_shared<std::vector<asio::io_context*>>();
  for (std::size_t i = 0; i < threads; ++i) {
    loops_.push_back(std::make_unique<asio::io_context>(1));
    all->push_back(loops_.back().get());
    work_.push_back(asio::make_work_guard(*loops_.back()));
  }
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  for (auto& loop : loops_) {
    plugin::MarkOneThread(*loop);
    if (threads > 1) {
      auto& group = asio::make_service<plugin::LoopGroup>(*loop);
      group.loops = all;
      group.next = next;
    }
  }
  threads_.reserve(threads);
  for (auto& loop : loops_) {
    threads_.emplace_back([io = loop.get()] {
      t_in_io_thread = true;
      util::SetThreadName("micro-io");
      io->run();
    });
  }
}

Runtime::~Runtime() {
  work_.clear();
  for (auto& loop : loops_) loop->stop();
  for (auto& t : threads_) t.join();
}

asio::any_io_executor Runtime::executor() { return loops_.front()->get_executor(); }

Runtime& Runtime::Default() {
  static Runtime* runtime = new Runtime();  // never destroyed: usable from static destructors
  return *runtime;
}

bool Runtime::InIoThread() { return t_in_io_thread; }

}  // namespace micro
