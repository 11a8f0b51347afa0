// OTLP/HTTP JSON export of finished spans: a bounded queue drained by a thread of its own.
#include <array>
#include <charconv>

#include "micro/http_client.h"
#include "micro/logger.h"
#include "micro/trace.h"
#include "micro/version.h"

namespace micro::trace {
namespace {

// JSON string contents: escapes, and invalid UTF-8 replaced by U+FFFD (collectors reject it).
void AppendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (plain(c)) {  // a run of plain ASCII (nearly every string): appended at once
      std::size_t end = i + 1;
      while (end < s.size() && plain(static_cast<unsigned char>(s[end]))) ++end;
      out.append(s.data() + i, end - i);
      i = end;
      continue;
    }
    if (c < 0x80) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: copy it when well formed.
    std::size_t len = 0;
    if (c >= 0xC2 && c < 0xE0) len = 2;
    if (c >= 0xE0 && c < 0xF0) len = 3;
    if (c >= 0xF0 && c < 0xF5) len = 4;
    bool ok = len > 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
}

void AppendString(std::string& out, std::string_view s) {
  out += '"';
  AppendJsonEscaped(out, s);
  out += '"';
}

void AppendAttribute(std::string& out, std::string_view key, std::string_view value) {
  out += "{\"key\":";
  AppendString(out, key);
  out += ",\"value\":{\"stringValue\":";
  AppendString(out, value);
  out += "}}";
}

template <std::size_t N>
void AppendHexString(std::string& out, const std::array<uint8_t, N>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char buf[2 * N + 2];
  buf[0] = buf[2 * N + 1] = '"';
  for (std::size_t i = 0; i < N; ++i) {
    buf[1 + 2 * i] = kDigits[bytes[i] >> 4];
    buf[2 + 2 * i] = kDigits[bytes[i] & 0xF];
  }
  out.append(buf, sizeof buf);
}

// OTLP JSON writes 64-bit integers as strings.
void AppendInt(std::string& out, int64_t v, bool quoted) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  if (quoted) out += '"';
  out.append(buf, end);
  if (quoted) out += '"';
}

// Written with no temporaries: this runs on the exporter thread for every span, and that thread
// shares the cores of the calls being traced.
void AppendSpan(std::string& out, const Span& s) {
  out += "{\"traceId\":";
  AppendHexString(out, s.trace_id);
  out += ",\"spanId\":";
  AppendHexString(out, s.span_id);
  if (!s.IsRoot()) {
    out += ",\"parentSpanId\":";
    AppendHexString(out, s.parent_span_id);
  }
  if (!s.tracestate.empty()) {
    out += ",\"traceState\":";
    AppendString(out, s.tracestate);
  }
  out += ",\"name\":";
  AppendString(out, s.name);
  out += ",\"kind\":";
  AppendInt(out, static_cast<int>(s.kind), false);
  out += ",\"startTimeUnixNano\":";
  AppendInt(out, s.start_unix_nanos, true);
  out += ",\"endTimeUnixNano\":";
  AppendInt(out, s.end_unix_nanos, true);
  out += ",\"attributes\":[";
  for (std::size_t i = 0; i < s.attributes.size(); ++i) {
    if (i) out += ',';
    AppendAttribute(out, s.attributes[i].first, s.attributes[i].second);
  }
  out += "],\"status\":";
  if (s.error) {
    out += "{\"code\":2,\"message\":";
    AppendString(out, s.status_message);
    out += "}}";
  } else {
    out += "{}}";
  }
}

// {"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},"spans":[...]}]}]}, written
// directly (no JSON tree: this runs for every exported span).
std::string OtlpBody(const std::vector<const Span*>& spans, const OtlpOptions& options) {
  std::string out;
  out.reserve(256 + spans.size() * 768);  // a call span is ~700 bytes
  out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  AppendAttribute(out, "service.name", options.service_name);
  if (!options.service_version.empty()) {
    out += ',';
    AppendAttribute(out, "service.version", options.service_version);
  }
  out += ',';
  AppendAttribute(out, "telemetry.sdk.name", "micro-cpp");
  out += ',';
  AppendAttribute(out, "telemetry.sdk.language", "cpp");
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"micro-cpp\",\"version\":";
  AppendString(out, kVersion);
  out += "},\"spans\":[";
  for (std::size_t i = 0; i < spans.size(); ++i) {
    if (i) out += ',';
    AppendSpan(out, *spans[i]);
  }
  out += "]}]}]}";
  return out;
}

}  // namespace

struct OtlpHttpExporter::Target {
  std::string host_port;
  std::string path = "/v1/traces";
  std::unique_ptr<http::Client> client;
};

OtlpHttpExporter::OtlpHttpExporter(OtlpOptions options)
    : options_(std::move(options)), target_(std::make_unique<Target>()) {
  std::string_view a = options_.address;
  bool secure = false;
  if (a.rfind("http://", 0) == 0) {
    a.remove_prefix(7);
  } else if (a.rfind("https://", 0) == 0) {
    a.remove_prefix(8);
    secure = true;
  }
  if (const auto slash = a.find('/'); slash != std::string_view::npos) {
    if (a.size() > slash + 1) target_->path = std::string(a.substr(slash));
    a = a.substr(0, slash);
  }
  target_->host_port = std::string(a);
  target_->client = std::make_unique<http::Client>(http::ClientOptions{
      .secure = secure, .connect_timeout = options_.timeout, .request_timeout = options_.timeout});
  thread_ = std::thread([this] { Run(); });
}

OtlpHttpExporter::~OtlpHttpExporter() { Shutdown(); }

void OtlpHttpExporter::Export(SpanPtr span) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < options_.max_batch) return;
  }
  cv_.notify_one();
}

void OtlpHttpExporter::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void OtlpHttpExporter::Run() {
  for (;;) {
    std::vector<SpanPtr> batch;
    bool last = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.interval,
                   [&] { return stopping_ || queue_.size() >= options_.max_batch; });
      const std::size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      last = stopping_ && queue_.empty();
    }
    if (!batch.empty()) {
      if (Post(batch)) {
        exported_.fetch_add(batch.size(), std::memory_order_relaxed);
      } else {
        failed_.fetch_add(batch.size(), std::memory_order_relaxed);
        if (stopping_) last = true;  // the collector is gone: do not wait on it for each batch
      }
    }
    if (last) {
      std::lock_guard lock(mu_);
      dropped_.fetch_add(queue_.size(), std::memory_order_relaxed);
      queue_.clear();
      return;
    }
  }
}

bool OtlpHttpExporter::Post(const std::vector<SpanPtr>& batch) {
  std::vector<const Span*> spans;
  spans.reserve(batch.size());
  for (const auto& s : batch) spans.push_back(s.get());
  http::Request req{.method = "POST", .target = target_->path, .body = OtlpBody(spans, options_)};
  req.header.Set("Content-Type", "application/json");
  auto rsp = target_->client->SendSync(target_->host_port, std::move(req));
  const bool ok = rsp.ok() && rsp->status >= 200 && rsp->status < 300;
  if (!ok && !failing_) {
    log::Warn("trace export to {} failed: {}", options_.address,
              rsp.ok() ? "HTTP " + std::to_string(rsp->status) : rsp.error().detail);
  } else if (ok && failing_) {
    log::Info("trace export to {} works again", options_.address);
  }
  failing_ = !ok;
  return ok;
}

std::string OtlpHttpExporter::ToOtlpJson(const std::vector<Span>& spans,
                                         const OtlpOptions& options) {
  std::vector<const Span*> list;
  list.reserve(spans.size());
  for (const Span& s : spans) list.push_back(&s);
  return OtlpBody(list, options);
}

}  // namespace micro::trace
