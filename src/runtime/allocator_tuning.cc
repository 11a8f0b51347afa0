#include "runtime/allocator_tuning.h"

#include <asio/post.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "micro/plugin/io.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace micro::runtime_detail {
namespace {
std::atomic<bool> g_tuned{false};  // TuneAllocator set our thresholds
}  // namespace

// glibc's default lets each thread arena hand memory above a trim threshold of about 128 KiB back
// to the kernel as soon as it is freed (madvise), and serves blocks over 128 KiB with mmap. A
// server that reads a 64 KiB request, builds a 64 KiB answer and frees both on every call then
// pays page faults, zeroing and TLB shootdowns on each one: measured (bench/capacity.sh, 64 KiB x
// 8) 2-3x the CPU per call of the same server with the thresholds below, which match jemalloc
// and mimalloc preloaded. Memory held back is bounded by the trim threshold per arena.
void TuneAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__GLIBC__)
    const char* opt_out = std::getenv("MICRO_MALLOC_TUNE");
    if (opt_out && std::strcmp(opt_out, "0") == 0) return;
    // The user's own glibc tunables win.
    if (std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
        std::getenv("GLIBC_TUNABLES")) {
      return;
    }
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
    g_tuned.store(true);
#endif
  });
}

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

void ReleaseFreeMemory(const asio::any_io_executor& ex) {
#if defined(__GLIBC__)
  if (g_tuned.load() && ex) {
    std::vector<asio::io_context*> loops;
    auto& ctx = asio::query(ex, asio::execution::context);
    if (asio::has_service<plugin::LoopGroup>(ctx)) {
      loops = *asio::use_service<plugin::LoopGroup>(ctx).loops;
    } else if (const auto* io = ex.target<asio::io_context::executor_type>()) {
      loops.push_back(&io->context());
    }
    // A free that merges 64 KiB or more into the top of a thread's heap trims that heap's top
    // down to the pad when the top is over the trim threshold: lowered while each loop frees.
    static std::mutex one_at_a_time;
    std::lock_guard lock(one_at_a_time);
    mallopt(M_TRIM_THRESHOLD, kProbeTrimThreshold);
    auto left = std::make_shared<std::atomic<std::size_t>>(loops.size());
    std::promise<void> all;
    auto done = all.get_future();
    auto shared_all = std::make_shared<std::promise<void>>(std::move(all));
    if (loops.empty()) shared_all->set_value();
    for (auto* loop : loops) {
      asio::post(*loop, [left, shared_all] {
        void* probe = std::malloc(kProbeBytes);
        if (probe != nullptr) static_cast<volatile char*>(probe)[0] = 0;
        std::free(probe);
        if (left->fetch_sub(1) == 1) shared_all->set_value();
      });
    }
    done.wait_for(std::chrono::seconds(1));
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  }
#else
  (void)ex;
#endif
  ReleaseFreeMemory();
}

}  // namespace micro::runtime_detail
