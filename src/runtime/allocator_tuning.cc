#include "runtime/allocator_tuning.h"

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
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

namespace {

// The trim threshold lowered for as long as this lives (a coroutine frame destroyed with its
// Runtime restores it too). One at a time in the process.
class LoweredTrimThreshold {
 public:
  LoweredTrimThreshold() : active_(!g_lowered.exchange(true)) {
#if defined(__GLIBC__)
    if (active_) mallopt(M_TRIM_THRESHOLD, kProbeTrimThreshold);
#endif
  }
  ~LoweredTrimThreshold() {
    if (!active_) return;
#if defined(__GLIBC__)
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
#endif
    g_lowered.store(false);
  }
  LoweredTrimThreshold(const LoweredTrimThreshold&) = delete;
  LoweredTrimThreshold& operator=(const LoweredTrimThreshold&) = delete;
  bool active() const { return active_; }

 private:
  static inline std::atomic<bool> g_lowered{false};
  const bool active_;
};

std::vector<asio::io_context*> LoopsOf(const asio::any_io_executor& ex) {
  auto& ctx = asio::query(ex, asio::execution::context);
  if (asio::has_service<plugin::LoopGroup>(ctx)) {
    return *asio::use_service<plugin::LoopGroup>(ctx).loops;
  }
  if (const auto* io = ex.target<asio::io_context::executor_type>()) return {&io->context()};
  return {};
}

}  // namespace

asio::awaitable<void> ReleaseFreeMemoryOfLoops() {
  const asio::any_io_executor here = co_await asio::this_coro::executor;
  if (g_tuned.load()) {
    LoweredTrimThreshold lowered;
    if (lowered.active()) {
      // A free that merges 64 KiB or more into the top of a thread's heap trims that heap's
      // top down to the pad when the top is over the (now low) trim threshold.
      const auto loops = LoopsOf(here);
      auto left = std::make_shared<std::atomic<std::size_t>>(loops.size());
      for (auto* loop : loops) {
        asio::post(*loop, [left] {
          void* probe = std::malloc(kProbeBytes);
          if (probe != nullptr) static_cast<volatile char*>(probe)[0] = 0;
          std::free(probe);
          left->fetch_sub(1);
        });
      }
      // This loop's own probe runs while this waits; a stopped loop's never does.
      asio::steady_timer poll(here);
      for (int i = 0; i < 50 && left->load() > 0; ++i) {
        poll.expires_after(std::chrono::milliseconds(1));
        auto [ec] = co_await poll.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (ec) break;
      }
    }
  }
  ReleaseFreeMemory();
}

}  // namespace micro::runtime_detail
