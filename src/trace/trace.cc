// Trace ids, propagation headers, sampling and the ring of recent spans.
#include "micro/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

namespace micro::trace {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly 2 * N hex digits into out.
template <std::size_t N>
bool ParseHexBytes(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// 2 * N hex digits at out.
template <std::size_t N>
void WriteHex(const std::array<uint8_t, N>& bytes, char* out) {
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xF];
  }
}

template <std::size_t N>
std::string HexOf(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  WriteHex(bytes, out.data());
  return out;
}

template <std::size_t N>
bool IsZero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

// FNV-1a, twice with different seeds, for ids that are not hex.
uint64_t Fnv(std::string_view text, uint64_t seed) {
  uint64_t h = seed;
  for (char c : text) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

template <std::size_t N>
std::array<uint8_t, N> HashBytes(std::string_view text) {
  std::array<uint8_t, N> out{};
  uint64_t a = Fnv(text, 14695981039346656037ULL),
           b = Fnv(text, 1469598103934665603ULL ^ 0x5bd1e995);
  for (std::size_t i = 0; i < N; ++i) {
    uint64_t& src = i < 8 ? a : b;
    out[i] = static_cast<uint8_t>(src >> (8 * (i % 8)));
  }
  if (IsZero(out)) out[N - 1] = 1;
  return out;
}

// A UUID's 32 hex digits, or "" when text is not one.
std::string_view StripUuid(std::string_view text, char (&buf)[32]) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return {};
  }
  std::size_t n = 0;
  for (char c : text) {
    if (c != '-') buf[n++] = c;
  }
  return std::string_view(buf, 32);
}

SpanId ParseSpanId(std::string_view text) {
  SpanId id{};
  if (ParseHexBytes(text, id) && !IsZero(id)) return id;
  char buf[32];
  if (auto hex = StripUuid(text, buf);
      !hex.empty() && ParseHexBytes(hex.substr(0, 16), id) && !IsZero(id)) {
    return id;
  }
  return HashBytes<8>(text);
}

uint64_t Random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

template <std::size_t N>
std::array<uint8_t, N> RandomBytes() {
  std::array<uint8_t, N> out{};
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      const uint64_t r = Random64();
      for (std::size_t j = 0; j < 8 && i + j < N; ++j)
        out[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (IsZero(out));
  return out;
}

// The 8-4-4-4-12 form of id at out (36 chars).
void WriteUuid(const TraceId& id, char* out) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[at++] = '-';
    out[at++] = kHexDigits[id[i] >> 4];
    out[at++] = kHexDigits[id[i] & 0xF];
  }
}

// Whether text names id: its UUID form or its 32 hex digits (either case), else whatever
// ParseTraceId makes of it. The first two, the usual ones, are checked without parsing.
bool NamesTrace(std::string_view text, const TraceId& id) {
  char form[36];
  if (text.size() == 36) {
    WriteUuid(id, form);
  } else if (text.size() == 32) {
    WriteHex(id, form);
  } else {
    return ParseTraceId(text) == id;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'F' ? static_cast<char>(text[i] + 32) : text[i];
    if (c != form[i]) return ParseTraceId(text) == id;
  }
  return true;
}

int64_t UnixNanosNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Threshold(double ratio) {
  if (ratio <= 0) return 0;
  if (ratio >= 1) return UINT64_MAX;
  return static_cast<uint64_t>(ratio * 18446744073709551616.0);
}

}  // namespace

std::string Hex(const TraceId& id) { return HexOf(id); }
std::string Hex(const SpanId& id) { return HexOf(id); }

std::string UuidForm(const TraceId& id) {
  std::string out(36, '-');
  WriteUuid(id, out.data());
  return out;
}

TraceId ParseTraceId(std::string_view text) {
  TraceId id{};
  if (ParseHexBytes(text, id) && !IsZero(id)) return id;
  char buf[32];
  if (auto hex = StripUuid(text, buf); !hex.empty() && ParseHexBytes(hex, id) && !IsZero(id)) {
    return id;
  }
  return HashBytes<16>(text);
}

std::optional<SpanContext> Extract(const Metadata& md) {
  const auto micro_id = md.Get("Micro-Trace-Id");
  if (auto tp = md.Get("Traceparent")) {
    // version "-" trace "-" parent "-" flags; versions other than 00 may append fields.
    const std::string_view v = *tp;
    SpanContext sc;
    if (v.size() >= 55 && v[2] == '-' && v[35] == '-' && v[52] == '-' && v.substr(0, 2) != "ff" &&
        ParseHexBytes(v.substr(3, 32), sc.trace_id) && !IsZero(sc.trace_id) &&
        ParseHexBytes(v.substr(36, 16), sc.span_id) && !IsZero(sc.span_id) &&
        HexValue(v[53]) >= 0 && HexValue(v[54]) >= 0 &&
        (v.size() == 55 || v.substr(0, 2) != "00")) {
      sc.from_traceparent = true;
      sc.sampled = (HexValue(v[54]) & 1) != 0;
      sc.tracestate = md.GetOr("Tracestate");
      // Micro-Trace-Id of the same trace is passed on as it came (go-micro's peers know it).
      if (micro_id && NamesTrace(*micro_id, sc.trace_id)) sc.micro_trace_id = *micro_id;
      return sc;
    }
  }
  if (micro_id && !micro_id->empty()) {
    SpanContext sc;
    sc.trace_id = ParseTraceId(*micro_id);
    sc.micro_trace_id = *micro_id;
    if (auto span = md.Get("Micro-Span-Id"); span && !span->empty())
      sc.span_id = ParseSpanId(*span);
    return sc;
  }
  return std::nullopt;
}

void Span::SetStatus(const Status& status) {
  if (status.ok()) return;
  error = true;
  status_message = status.error().ToJson();
}

void Inject(const Span& span, Metadata& md) {
  // Written from stack buffers into the values already there when the headers came in (a
  // server span: no allocation), else added: this runs on every traced call.
  char tp[55];
  std::fill(tp, tp + sizeof tp, '-');
  tp[0] = tp[1] = '0';
  WriteHex(span.trace_id, tp + 3);
  WriteHex(span.span_id, tp + 36);
  tp[53] = '0';
  tp[54] = '1';
  md.Assign("Traceparent", std::string_view(tp, sizeof tp));
  if (!span.tracestate.empty()) md.Assign("Tracestate", span.tracestate);
  if (span.micro_trace_id.empty()) {
    char uuid[36];
    WriteUuid(span.trace_id, uuid);
    md.Assign("Micro-Trace-Id", std::string_view(uuid, sizeof uuid));
  } else {
    md.Assign("Micro-Trace-Id", span.micro_trace_id);
  }
  md.Assign("Micro-Span-Id", std::string_view(tp + 36, 16));
}

Result<double> ParseSampleRatio(std::string_view text) {
  double v = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(v >= 0 && v <= 1)) {
    return errors::BadRequest("go.micro.trace", "sample ratio \"{}\" is not a number in [0, 1]",
                              text);
  }
  return v;
}

// --- tracer --------------------------------------------------------------------------------

Tracer::Tracer(TracerOptions options)
    : options_(std::move(options)), threshold_(Threshold(options_.sample_ratio)) {}

Tracer::~Tracer() {
  if (options_.exporter) options_.exporter->Shutdown();
}

bool Tracer::SampleTrace(const TraceId& id) const {
  if (threshold_ == 0) return false;
  if (threshold_ == UINT64_MAX) return true;
  uint64_t low = 0;
  for (int i = 8; i < 16; ++i) low = (low << 8) | id[static_cast<std::size_t>(i)];
  return low < threshold_;
}

std::optional<Span> Tracer::Start(SpanKind kind, const std::optional<SpanContext>& parent) {
  if (!parent && threshold_ == 0) return std::nullopt;  // the common "off" case: nothing made
  TraceId trace_id{};
  if (parent) {
    const bool sampled = parent->from_traceparent ? parent->sampled : SampleTrace(parent->trace_id);
    if (!sampled) return std::nullopt;
    trace_id = parent->trace_id;
  } else {
    trace_id = RandomBytes<16>();
    if (!SampleTrace(trace_id)) return std::nullopt;
  }
  Span span;
  span.trace_id = trace_id;
  span.span_id = RandomBytes<8>();
  span.kind = kind;
  span.start_unix_nanos = UnixNanosNow();
  if (parent) {
    span.parent_span_id = parent->span_id;
    span.tracestate = std::string(parent->tracestate);
    // Kept only when it is not simply the trace id in UUID form (what Inject writes anyway):
    // the common case then costs no copy.
    char uuid[36];
    WriteUuid(trace_id, uuid);
    if (parent->micro_trace_id != std::string_view(uuid, sizeof uuid)) {
      span.micro_trace_id = std::string(parent->micro_trace_id);
    }
  }
  return span;
}

void Tracer::End(Span span) {
  span.end_unix_nanos = UnixNanosNow();
  recorded_.fetch_add(1, std::memory_order_relaxed);
  auto shared = std::make_shared<const Span>(std::move(span));
  if (options_.ring_size > 0) {
    SpanPtr evicted;  // released outside the lock
    std::lock_guard lock(mu_);
    ring_.push_back(shared);
    if (ring_.size() > options_.ring_size) {
      evicted = std::move(ring_.front());
      ring_.pop_front();
    }
  }
  if (options_.exporter) options_.exporter->Export(std::move(shared));
}

std::vector<Span> Tracer::Recent(std::string_view trace_id) const {
  std::optional<TraceId> want;
  if (!trace_id.empty()) want = ParseTraceId(trace_id);
  std::vector<Span> out;
  std::lock_guard lock(mu_);
  for (const SpanPtr& s : ring_) {
    if (!want || s->trace_id == *want) out.push_back(*s);
  }
  return out;
}

}  // namespace micro::trace
