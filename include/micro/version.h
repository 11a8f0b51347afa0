// The micro-cpp version.
#pragma once

#define MICRO_VERSION_MAJOR 0
#define MICRO_VERSION_MINOR 1
#define MICRO_VERSION_PATCH 0

namespace micro {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace micro
