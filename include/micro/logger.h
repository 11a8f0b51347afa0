// Logging through spdlog. The library logs to the spdlog logger named "micro".
//
// The logger is made while the program starts (static initialisation), with the level from
// MICRO_LOG_LEVEL (trace|debug|info|warn|error|fatal; default info); SetLevel() changes it at
// run time. Route its output with spdlog's own API: Logger().sinks() (the same object as
// spdlog::get("micro")). It is never destroyed, so threads may log while the program exits.
//
// Threading: safe from any thread (spdlog's multi-threaded sinks).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string_view>

namespace micro::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

// Parses trace|debug|info|warn|error|fatal (case-insensitive; "warning" also accepted).
std::optional<Level> ParseLevel(std::string_view text);

// The library logger (see above).
spdlog::logger& Logger();

void SetLevel(Level level);
Level GetLevel();

template <class... Args>
void Trace(spdlog::format_string_t<Args...> f, Args&&... args) {
  Logger().trace(f, std::forward<Args>(args)...);
}
template <class... Args>
void Debug(spdlog::format_string_t<Args...> f, Args&&... args) {
  Logger().debug(f, std::forward<Args>(args)...);
}
template <class... Args>
void Info(spdlog::format_string_t<Args...> f, Args&&... args) {
  Logger().info(f, std::forward<Args>(args)...);
}
template <class... Args>
void Warn(spdlog::format_string_t<Args...> f, Args&&... args) {
  Logger().warn(f, std::forward<Args>(args)...);
}
template <class... Args>
void Error(spdlog::format_string_t<Args...> f, Args&&... args) {
  Logger().error(f, std::forward<Args>(args)...);
}

}  // namespace micro::log
