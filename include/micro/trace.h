// Distributed tracing: trace context propagation (W3C traceparent/tracestate and go-micro's
// Micro-Trace-Id/Micro-Span-Id), spans, sampling, an in-memory ring of recent spans (served by
// Debug.Trace) and export in OTLP/HTTP JSON (docs/observability.md).
//
// Propagation, as go-micro and OpenTelemetry wrappers do it, through call metadata:
// - read: `traceparent` (00-<32 hex trace>-<16 hex parent>-<flags>) and `tracestate`; else
//   Micro-Trace-Id (+ Micro-Span-Id as the parent). go-micro's ids are UUIDs: a UUID's 32 hex
//   digits are the trace id; any other text is hashed into one (and sent on as it came).
// - write: Traceparent, Tracestate (when one came in), Micro-Trace-Id (as received, else the
//   trace id in UUID form, which go-micro services pass on unchanged) and Micro-Span-Id.
// A server span's context is written into the handler's Context metadata, so calls and
// publishes the handler makes with that context continue the trace.
//
// Sampling: a parent that came with traceparent decides (its sampled flag); otherwise the
// trace id is sampled when its last 8 bytes fall below ratio * 2^64 (every service with the
// same ratio takes the same decision for a trace). Unsampled calls create no span and allocate
// nothing; their incoming headers still travel on with the metadata.
//
// Threading: a Tracer and an exporter may be used from any thread. Tracer::End never blocks:
// the exporter queue is bounded and drops (and counts) spans when full.
#pragma once

#include <micro/context.h>
#include <micro/metadata.h>
#include <micro/status.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace micro::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

std::string Hex(const TraceId& id);
std::string Hex(const SpanId& id);
// 8-4-4-4-12 form of a trace id (what go-micro's Micro-Trace-Id looks like).
std::string UuidForm(const TraceId& id);
// The trace id a text names: 32 hex digits, a UUID, or a hash of any other text.
TraceId ParseTraceId(std::string_view text);

// A remote parent read from metadata. The string_views borrow from that metadata.
struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};  // zero: no parent span (only a trace id came)
  bool from_traceparent = false;
  bool sampled = false;  // traceparent's flag
  std::string_view tracestate;
  std::string_view micro_trace_id;  // Micro-Trace-Id as received, if any
};

// The parent in md, or nullopt. Never allocates.
std::optional<SpanContext> Extract(const Metadata& md);

enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct Span {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // zero: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  bool error = false;
  std::string status_message;  // the error, when error
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string tracestate;      // passed on to children
  std::string micro_trace_id;  // the Micro-Trace-Id children get; empty: UuidForm(trace_id)

  bool IsRoot() const { return parent_span_id == SpanId{}; }
  // Sets error and status_message from a failed status (the error's JSON).
  void SetStatus(const Status& status);
};

// A finished span, shared by the ring and the exporter (no copies).
using SpanPtr = std::shared_ptr<const Span>;

// Writes span's context (span as the parent of what follows) into md.
void Inject(const Span& span, Metadata& md);

// Where finished spans go besides the ring.
class Exporter {
 public:
  virtual ~Exporter() = default;
  // Must not block. May drop.
  virtual void Export(SpanPtr span) = 0;
  // Sends what is queued (up to a deadline) and stops. Idempotent.
  virtual void Shutdown() {}
};

struct OtlpOptions {
  // Collector: "host:port" (http, path /v1/traces) or "http://host:port[/path]" /
  // "https://...". The Service sets it from --tracer_address / MICRO_TRACER_ADDRESS.
  std::string address;
  std::string service_name = "micro";           // resource attribute service.name
  std::string service_version;                  // service.version, when set
  std::size_t max_queue = 2048;                 // spans waiting; beyond: dropped and counted
  std::size_t max_batch = 512;                  // spans per POST
  Duration interval = std::chrono::seconds(1);  // a POST at least this often while spans wait
  Duration timeout = std::chrono::seconds(5);   // per POST
};

// OTLP/HTTP JSON exporter: a thread of its own POSTs batches ({"resourceSpans":[...]}) to
// <address>/v1/traces. A failed POST drops its batch (counted, logged once per failure run).
class OtlpHttpExporter final : public Exporter {
 public:
  explicit OtlpHttpExporter(OtlpOptions options);
  ~OtlpHttpExporter() override;
  void Export(SpanPtr span) override;
  void Shutdown() override;

  uint64_t Exported() const { return exported_.load(); }
  uint64_t Dropped() const { return dropped_.load(); }  // queue full
  uint64_t Failed() const { return failed_.load(); }    // in failed POSTs

  // The JSON body of one export request (for tests and other transports).
  static std::string ToOtlpJson(const std::vector<Span>& spans, const OtlpOptions& options);

 private:
  void Run();
  bool Post(const std::vector<SpanPtr>& batch);

  struct Target;
  const OtlpOptions options_;
  std::unique_ptr<Target> target_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SpanPtr> queue_;
  bool stopping_ = false;
  bool failing_ = false;
  std::atomic<uint64_t> exported_{0}, dropped_{0}, failed_{0};
  std::thread thread_;
};

struct TracerOptions {
  std::string service;                 // names the resource; spans carry it as attribute
  double sample_ratio = 1.0;           // for traces without a sampled/unsampled parent: 0..1
  std::size_t ring_size = 256;         // recent spans kept for Debug.Trace (go-micro: 256)
  std::shared_ptr<Exporter> exporter;  // optional
};

class Tracer {
 public:
  explicit Tracer(TracerOptions options);
  ~Tracer();

  // A new span under parent (or a root), started now, or nullopt when it is not sampled
  // (nothing allocated then). The caller names it and adds attributes.
  std::optional<Span> Start(SpanKind kind, const std::optional<SpanContext>& parent);
  // Ends span now: into the ring and to the exporter.
  void End(Span span);

  // The ring's spans, oldest first; only those of one trace when trace_id is not empty (hex,
  // UUID or the Micro-Trace-Id text).
  std::vector<Span> Recent(std::string_view trace_id = {}) const;

  double SampleRatio() const { return options_.sample_ratio; }
  const std::string& Service() const { return options_.service; }
  Exporter* exporter() const { return options_.exporter.get(); }
  uint64_t Recorded() const { return recorded_.load(std::memory_order_relaxed); }

 private:
  bool SampleTrace(const TraceId& id) const;
  const TracerOptions options_;
  const uint64_t threshold_;  // ratio * 2^64
  mutable std::mutex mu_;
  std::deque<SpanPtr> ring_;
  std::atomic<uint64_t> recorded_{0};
};

// The sampling ratio in [0, 1] from text ("0.25", "1"); an Error for anything else.
Result<double> ParseSampleRatio(std::string_view text);

}  // namespace micro::trace
