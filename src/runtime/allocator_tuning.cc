#include "runtime/allocator_tuning.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace micro::runtime_detail {

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
#endif
  });
}

void ReleaseFreeMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace micro::runtime_detail
