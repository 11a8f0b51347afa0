// Structured logging: fields (global, per thread), the text and JSON formatters, and the ring
// buffer sink behind Debug.Log.
#include "log/structured.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "micro/context.h"
#include "micro/logger.h"
#include "micro/metadata.h"

namespace micro::log {
namespace {

// The fields of ScopedFields alive on this thread, outermost first.
thread_local std::vector<const Fields*> tls_scopes;

std::mutex& GlobalMu() {
  static auto* mu = new std::mutex();  // never destroyed: threads may log at exit
  return *mu;
}
std::shared_ptr<const Fields>& GlobalFields() {
  static auto* fields = new std::shared_ptr<const Fields>(std::make_shared<Fields>());
  return *fields;
}
std::shared_ptr<const Fields> GlobalSnapshot() {
  std::lock_guard lock(GlobalMu());
  return GlobalFields();
}

// Global fields, then the thread's scopes (a later key replaces an earlier one).
Fields CurrentFields() {
  Fields out = *GlobalSnapshot();
  for (const Fields* scope : tls_scopes) {
    // (No structured binding: clang 14 cannot capture one in the lambda.)
    for (const auto& field : *scope) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const auto& kv) { return kv.first == field.first; });
      if (it != out.end()) {
        it->second = field.second;
      } else {
        out.emplace_back(field.first, field.second);
      }
    }
  }
  return out;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  return std::any_of(v.begin(), v.end(), [](char c) {
    return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
  });
}

std::string JsonString(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "off";
  }
}

std::string Iso8601(spdlog::log_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + fmt::format(".{:03d}Z", static_cast<int>(ms % 1000));
}

// Text: spdlog's default line with the fields appended; JSON: one object per line.
class FieldFormatter final : public spdlog::formatter {
 public:
  explicit FieldFormatter(Format format)
      : format_(format),
        pattern_(std::make_unique<spdlog::pattern_formatter>(
            "[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v", spdlog::pattern_time_type::local, "")) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const Fields fields = CurrentFields();
    if (format_ == Format::kText) {
      pattern_->format(msg, dest);
      for (const auto& [k, v] : fields) {
        const std::string kv =
            NeedsQuotes(v) ? fmt::format(" {}={}", k, JsonString(v)) : fmt::format(" {}={}", k, v);
        dest.append(kv.data(), kv.data() + kv.size());
      }
    } else {
      std::string line = "{\"time\":\"" + Iso8601(msg.time) + "\",\"level\":\"" +
                         std::string(LevelName(msg.level)) + "\",\"msg\":" +
                         JsonString(std::string_view(msg.payload.data(), msg.payload.size()));
      for (const auto& [k, v] : fields) {
        if (k == "time" || k == "level" || k == "msg") continue;
        line += "," + JsonString(k) + ":" + JsonString(v);
      }
      line += "}";
      dest.append(line.data(), line.data() + line.size());
    }
    static constexpr std::string_view kEol = "\n";
    dest.append(kEol.data(), kEol.data() + kEol.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<FieldFormatter>(format_);
  }

 private:
  const Format format_;
  std::unique_ptr<spdlog::pattern_formatter> pattern_;
};

// Feeds Ring().
class RingSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Record r;
    r.timestamp =
        std::chrono::duration_cast<std::chrono::seconds>(msg.time.time_since_epoch()).count();
    r.message.assign(msg.payload.data(), msg.payload.size());
    r.metadata["level"] = std::string(LevelName(msg.level));
    for (auto& [k, v] : CurrentFields()) r.metadata[k] = std::move(v);
    Ring().Add(std::move(r));
  }
  void flush_() override {}
};

}  // namespace

std::optional<Format> ParseFormat(std::string_view text) {
  if (EqualsIgnoreCase(text, "text")) return Format::kText;
  if (EqualsIgnoreCase(text, "json")) return Format::kJson;
  return std::nullopt;
}

void SetFormat(Format format) {
  for (auto& sink : Logger().sinks()) {
    if (dynamic_cast<RingSink*>(sink.get())) continue;
    sink->set_formatter(std::make_unique<FieldFormatter>(format));
  }
}

void SetGlobalFields(Fields fields) {
  auto next = std::make_shared<const Fields>(std::move(fields));
  std::lock_guard lock(GlobalMu());
  GlobalFields() = std::move(next);
}

ScopedFields::ScopedFields(Fields fields) : fields_(std::move(fields)) {
  tls_scopes.push_back(&fields_);
}

ScopedFields::~ScopedFields() {
  auto it = std::find(tls_scopes.rbegin(), tls_scopes.rend(), &fields_);
  if (it != tls_scopes.rend()) tls_scopes.erase(std::next(it).base());
}

Fields FieldsOf(const Context& ctx) {
  Fields out;
  const Metadata& md = ctx.metadata();
  if (auto s = md.Get("Micro-Service"); s && !s->empty()) out.emplace_back("service", *s);
  if (auto e = md.Get("Micro-Endpoint"); e && !e->empty()) out.emplace_back("endpoint", *e);
  if (auto tp = md.Get("Traceparent"); tp && tp->size() >= 35) {
    out.emplace_back("trace_id", tp->substr(3, 32));
  } else if (auto id = md.Get("Micro-Trace-Id"); id && !id->empty()) {
    out.emplace_back("trace_id", *id);
  }
  return out;
}

// --- ring buffer ---------------------------------------------------------------------------

void RingBuffer::Add(Record record) {
  {
    std::lock_guard lock(mu_);
    record.seq = ++seq_;
    records_.push_back(std::move(record));
    while (records_.size() > capacity_) records_.pop_front();
  }
  cv_.notify_all();
}

std::vector<Record> RingBuffer::Read(uint64_t after, std::size_t count, int64_t since) const {
  std::vector<Record> out;
  std::lock_guard lock(mu_);
  for (const Record& r : records_) {
    if (r.seq > after && r.timestamp >= since) out.push_back(r);
  }
  if (count > 0 && out.size() > count) out.erase(out.begin(), out.end() - static_cast<long>(count));
  return out;
}

bool RingBuffer::WaitNewer(uint64_t after, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return seq_ > after; });
}

uint64_t RingBuffer::LastSeq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

RingBuffer& Ring() {
  static auto* ring = new RingBuffer(1024);  // never destroyed: threads may log at exit
  return *ring;
}

namespace detail {

void InstallStructured(spdlog::logger& logger, bool own_logger) {
  logger.sinks().push_back(std::make_shared<RingSink>());
  std::optional<Format> format;
  if (const char* env = std::getenv("MICRO_LOG_FORMAT")) format = ParseFormat(env);
  if (!format && !own_logger) return;  // a user's logger keeps its formatter
  for (auto& sink : logger.sinks()) {
    if (dynamic_cast<RingSink*>(sink.get())) continue;
    sink->set_formatter(std::make_unique<FieldFormatter>(format.value_or(Format::kText)));
  }
}

}  // namespace detail
}  // namespace micro::log
