#include "micro/util.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace micro {

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xFFFFFFFFFFFF0FFFULL) | 0x4000ULL;              // version 4
  const uint64_t lo = (rng() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 1
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

Duration DefaultBackoff(int attempt) {
  if (attempt <= 0) return Duration::zero();
  if (attempt > 13) return std::chrono::minutes(2);
  const double ms = std::pow(static_cast<double>(attempt), std::exp(1.0)) * 100.0;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}

}  // namespace micro
