#include "micro/logger.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

#include "log/structured.h"
#include "micro/metadata.h"

namespace micro::log {
namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kFatal:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> CreateLogger() {
  if (auto existing = spdlog::get("micro")) {  // the user installed their own
    detail::InstallStructured(*existing, /*own_logger=*/false);
    return existing;
  }
  auto logger = spdlog::stderr_color_mt("micro");
  detail::InstallStructured(*logger, /*own_logger=*/true);
  Level level = Level::kInfo;
  if (const char* env = std::getenv("MICRO_LOG_LEVEL")) {
    if (auto parsed = ParseLevel(env)) level = *parsed;
  }
  logger->set_level(ToSpdlog(level));
  return logger;
}

}  // namespace

std::optional<Level> ParseLevel(std::string_view text) {
  if (EqualsIgnoreCase(text, "trace")) return Level::kTrace;
  if (EqualsIgnoreCase(text, "debug")) return Level::kDebug;
  if (EqualsIgnoreCase(text, "info")) return Level::kInfo;
  if (EqualsIgnoreCase(text, "warn") || EqualsIgnoreCase(text, "warning")) return Level::kWarn;
  if (EqualsIgnoreCase(text, "error")) return Level::kError;
  if (EqualsIgnoreCase(text, "fatal")) return Level::kFatal;
  return std::nullopt;
}

spdlog::logger& Logger() {
  // Never destroyed: I/O threads may log during static destruction.
  static const auto* logger = new std::shared_ptr<spdlog::logger>(CreateLogger());
  return **logger;
}

namespace {
// Made while the program starts, so that the first log line of a thread that outlives main
// (an I/O or nats.c thread at exit) does not go through spdlog's registry while static
// destructors tear it down.
[[maybe_unused]] const bool kLoggerMadeAtStart = (Logger(), true);
}  // namespace

void SetLevel(Level level) { Logger().set_level(ToSpdlog(level)); }

Level GetLevel() {
  switch (Logger().level()) {
    case spdlog::level::trace:
      return Level::kTrace;
    case spdlog::level::debug:
      return Level::kDebug;
    case spdlog::level::info:
      return Level::kInfo;
    case spdlog::level::warn:
      return Level::kWarn;
    case spdlog::level::err:
      return Level::kError;
    default:
      return Level::kFatal;
  }
}

}  // namespace micro::log
