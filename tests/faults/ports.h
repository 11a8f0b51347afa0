// Free loopback ports that are also distinct within this process: FreePort() asks the kernel
// for a port that is free now, and two calls may give the same one before either is bound
// (a cluster needs up to nine at once).
#pragma once

#include <cstdint>
#include <mutex>
#include <set>

#include "support/server_process.h"

namespace faults {

inline uint16_t UniquePort() {
  static std::mutex mu;
  static std::set<uint16_t> given;
  std::lock_guard lock(mu);
  for (;;) {
    const uint16_t p = micro::testing::FreePort();
    if (p != 0 && given.insert(p).second) return p;
  }
}

}  // namespace faults
