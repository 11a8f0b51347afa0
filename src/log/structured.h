// The library logger's structured parts, installed when it is made (src/log/logger.cc).
#pragma once

#include <spdlog/logger.h>

namespace micro::log::detail {

// Adds the ring buffer sink; installs the field formatter (MICRO_LOG_FORMAT, default text) on
// the other sinks when the logger is ours or MICRO_LOG_FORMAT is set.
void InstallStructured(spdlog::logger& logger, bool own_logger);

}  // namespace micro::log::detail
