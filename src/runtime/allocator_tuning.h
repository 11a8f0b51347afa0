// Process-wide allocator settings a server needs (see allocator_tuning.cc for the measurement).
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>

namespace micro::runtime_detail {

inline constexpr int kMmapThreshold = 1 << 20;         // blocks above this come from mmap
inline constexpr int kTrimThreshold = 8 << 20;         // free memory kept at the top of each arena
inline constexpr int kProbeTrimThreshold = 256 << 10;  // while ReleaseFreeMemory(ex) probes
inline constexpr std::size_t kProbeBytes = 128 << 10;  // over glibc's 64 KiB merge-and-trim mark

// Sets glibc's mmap and trim thresholds once per process; a no-op with MICRO_MALLOC_TUNE=0, when
// the user set glibc's own MALLOC_*_ / GLIBC_TUNABLES variables, or on another C library.
// Thread-safe.
void TuneAllocator();

// Hands free heap pages of every arena back to the kernel (glibc's malloc_trim; a no-op on
// another C library). Blocks for a few milliseconds per few hundred MB of heap: call it off the
// I/O threads, after a surge of memory use ends (a server whose connections dropped from a
// peak), never per call. Thread-safe.
void ReleaseFreeMemory();

// The same, and also the free memory at the top of each I/O thread's heap, which glibc's
// malloc_trim leaves to each heap's own trim threshold: run on one loop of a Runtime, it has
// every loop of that Runtime free a block into its heap while the threshold is briefly low, then
// trims. Blocks the loop it runs on for the trim itself (about a millisecond after a surge of
// 1,000 connections): for the end of a surge, never per call. A Runtime destroyed meanwhile
// ends it (the threshold is restored).
asio::awaitable<void> ReleaseFreeMemoryOfLoops();

}  // namespace micro::runtime_detail
