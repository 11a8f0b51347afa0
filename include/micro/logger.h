// Logging through spdlog. The library logs to the spdlog logger named "micro".
//
// The logger is made while the program starts (static initialisation), with the level from
// MICRO_LOG_LEVEL (trace|debug|info|warn|error|fatal; default info); SetLevel() changes it at
// run time. Route its output with spdlog's own API: Logger().sinks() (the same object as
// spdlog::get("micro")). It is never destroyed, so threads may log while the program exits.
//
// Structured logging (docs/observability.md):
// - Fields: key=value pairs added to log lines. Process-wide ones (SetGlobalFields: a Service
//   sets "service") go on every line; ScopedFields adds some for the lines the current thread
//   logs while it lives; With(fields) / For(ctx) log one line with fields (For(ctx): the call's
//   service, endpoint and trace id, read from the context's metadata).
//
//     micro::log::For(ctx).Info("hello {}", req.name());
//     // text: [2025-01-02 03:04:05.678] [micro] [info] hello John service=greeter
//     //        endpoint=Greeter.Hello trace_id=4bf92f3577b34da6a3ce929d0e0e4736
//     // json: {"time":"2025-01-02T03:04:05.678Z","level":"info","msg":"hello John",
//     //        "service":"greeter","endpoint":"Greeter.Hello","trace_id":"4bf9..."}
//
// - Format: text (spdlog's usual line, fields appended) or JSON, one object per line
//   (SetFormat, MICRO_LOG_FORMAT=json, or a Service's --log_format). Applies to the sinks the
//   logger has when it is called; a user's own "micro" logger keeps its formatter until then.
// - Ring(): the last lines logged (bounded, oldest dropped), for Debug.Log; followers wait for
//   new lines. Always attached to the library logger.
//
// Threading: safe from any thread (spdlog's multi-threaded sinks). Fields are per thread:
// ScopedFields must be destroyed on the thread that made it (do not hold one across a co_await).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace micro {
class Context;
}

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

// --- structured logging ----------------------------------------------------------------------

using Fields = std::vector<std::pair<std::string, std::string>>;

enum class Format { kText, kJson };
// "text" or "json" (case-insensitive).
std::optional<Format> ParseFormat(std::string_view text);
// Installs the text or JSON formatter on every sink the library logger has now.
void SetFormat(Format format);

// Fields on every line of the process (replacing the previous set). A Service sets "service".
void SetGlobalFields(Fields fields);

// Adds fields to the lines this thread logs while the object lives (nested scopes add up).
class ScopedFields {
 public:
  explicit ScopedFields(Fields fields);
  ~ScopedFields();
  ScopedFields(const ScopedFields&) = delete;
  ScopedFields& operator=(const ScopedFields&) = delete;

 private:
  Fields fields_;
};

// The fields of a call: service (Micro-Service), endpoint (Micro-Endpoint) and trace_id (from
// Traceparent, else Micro-Trace-Id), each only when present.
Fields FieldsOf(const Context& ctx);

// Logs lines with extra fields.
class FieldLogger {
 public:
  explicit FieldLogger(Fields fields) : fields_(std::move(fields)) {}
  template <class... Args>
  void Debug(spdlog::format_string_t<Args...> f, Args&&... args) const {
    Log(spdlog::level::debug, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Info(spdlog::format_string_t<Args...> f, Args&&... args) const {
    Log(spdlog::level::info, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Warn(spdlog::format_string_t<Args...> f, Args&&... args) const {
    Log(spdlog::level::warn, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Error(spdlog::format_string_t<Args...> f, Args&&... args) const {
    Log(spdlog::level::err, f, std::forward<Args>(args)...);
  }
  const Fields& fields() const { return fields_; }

 private:
  template <class... Args>
  void Log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> f,
           Args&&... args) const {
    if (!Logger().should_log(level)) return;
    ScopedFields scope(fields_);
    Logger().log(level, f, std::forward<Args>(args)...);
  }
  Fields fields_;
};

inline FieldLogger With(Fields fields) { return FieldLogger(std::move(fields)); }
inline FieldLogger For(const Context& ctx) { return FieldLogger(FieldsOf(ctx)); }

// One line as the ring keeps it (go-micro's debug log Record): metadata holds "level" and
// every field.
struct Record {
  uint64_t seq = 0;       // 1, 2, ... in logging order
  int64_t timestamp = 0;  // unix seconds
  std::map<std::string, std::string> metadata;
  std::string message;
};

// The last `capacity` lines. Thread-safe.
class RingBuffer {
 public:
  explicit RingBuffer(std::size_t capacity) : capacity_(capacity) {}
  void Add(Record record);  // assigns seq
  // Records with seq > after and timestamp >= since, the newest `count` of them (0: all).
  std::vector<Record> Read(uint64_t after = 0, std::size_t count = 0, int64_t since = 0) const;
  // Waits until a record with seq > after exists or `timeout` passed; true when one does.
  bool WaitNewer(uint64_t after, std::chrono::milliseconds timeout) const;
  uint64_t LastSeq() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Record> records_;
  uint64_t seq_ = 0;
};

// The ring attached to the library logger (1024 lines).
RingBuffer& Ring();

}  // namespace micro::log
