// Process-wide allocator settings a server needs (see allocator_tuning.cc for the measurement).
#pragma once

namespace micro::runtime_detail {

inline constexpr int kMmapThreshold = 1 << 20;  // blocks above this come from mmap
inline constexpr int kTrimThreshold = 8 << 20;  // free memory kept at the top of each arena

// Sets glibc's mmap and trim thresholds once per process; a no-op with MICRO_MALLOC_TUNE=0, when
// the user set glibc's own MALLOC_*_ / GLIBC_TUNABLES variables, or on another C library.
// Thread-safe.
void TuneAllocator();

// Hands free heap pages of every arena back to the kernel (glibc's malloc_trim; a no-op on
// another C library). Blocks for a few milliseconds per few hundred MB of heap: call it off the
// I/O threads, after a surge of memory use ends (a server whose connections dropped from a
// peak), never per call. Thread-safe.
void ReleaseFreeMemory();

}  // namespace micro::runtime_detail
