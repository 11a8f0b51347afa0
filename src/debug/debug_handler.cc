// go-micro's Debug handler: Health, Stats, Log (a server stream) and Trace.
#include <chrono>

#include "debug.pb.h"
#include "micro/logger.h"
#include "micro/metrics.h"
#include "micro/observability.h"

namespace micro {
namespace {

int64_t DebugUnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void FillRecord(const log::Record& r, debug::Record& out) {
  out.set_timestamp(r.timestamp);
  out.set_message(r.message);
  for (const auto& [k, v] : r.metadata) (*out.mutable_metadata())[k] = v;
}

void FillSpan(const trace::Span& s, debug::Span& out) {
  out.set_trace(trace::Hex(s.trace_id));
  out.set_id(trace::Hex(s.span_id));
  if (!s.IsRoot()) out.set_parent(trace::Hex(s.parent_span_id));
  out.set_name(s.name);
  out.set_started(static_cast<uint64_t>(s.start_unix_nanos));
  out.set_duration(static_cast<uint64_t>(s.end_unix_nanos - s.start_unix_nanos));
  auto& md = *out.mutable_metadata();
  for (const auto& [k, v] : s.attributes) md[k] = v;
  // The id go-micro services log for this trace.
  md["Micro-Trace-Id"] = s.micro_trace_id.empty() ? trace::UuidForm(s.trace_id) : s.micro_trace_id;
  if (s.error) md["error"] = s.status_message;
  const bool inbound = s.kind == trace::SpanKind::kServer || s.kind == trace::SpanKind::kConsumer;
  out.set_type(inbound ? debug::INBOUND : debug::OUTBOUND);
}

Status DebugLog(Context& ctx, TypedServerStream<debug::LogRequest, debug::Record>& stream) {
  debug::LogRequest req;
  if (!stream.Recv(req)) return stream.status();
  log::RingBuffer& ring = log::Ring();
  const std::size_t count = req.count() > 0 ? static_cast<std::size_t>(req.count()) : 0;
  uint64_t last = 0;
  for (const log::Record& r : ring.Read(0, count, req.since())) {
    debug::Record out;
    FillRecord(r, out);
    if (Status s = stream.Send(out); !s) return s;
    last = r.seq;
  }
  if (!req.stream()) return {};
  if (last == 0) last = ring.LastSeq();
  // Follow until the client leaves (its connection closing cancels the stream's context).
  while (!ctx.Done()) {
    if (!ring.WaitNewer(last, std::chrono::milliseconds(250))) continue;
    for (const log::Record& r : ring.Read(last)) {
      debug::Record out;
      FillRecord(r, out);
      if (Status s = stream.Send(out); !s) return {};
      last = r.seq;
    }
  }
  return {};
}

}  // namespace

Handler DebugHandler(std::shared_ptr<Observer> observer) {
  Handler h{.name = "Debug", .internal = true};
  h.endpoints.push_back(UnaryEndpoint<debug::HealthRequest, debug::HealthResponse>(
      "Debug.Health",
      [observer](Context&, const debug::HealthRequest&, debug::HealthResponse& rsp) {
        // go-micro answers "ok" always; ours also reflects the critical user checks.
        std::string status = "ok";
        for (const auto& c : observer->Ready().checks) {
          if (!c.up && c.name != "serving" && c.name != "registered") {
            status = "unhealthy: " + c.name + ": " + c.error;
            break;
          }
        }
        rsp.set_status(status);
        return Status{};
      }));
  h.endpoints.push_back(UnaryEndpoint<debug::StatsRequest, debug::StatsResponse>(
      "Debug.Stats", [observer](Context&, const debug::StatsRequest&, debug::StatsResponse& rsp) {
        const metrics::ProcessStats p = metrics::ReadProcessStats();
        const int64_t now = DebugUnixNow();
        rsp.set_timestamp(static_cast<uint64_t>(now));
        rsp.set_started(static_cast<uint64_t>(observer->StartedUnix()));
        rsp.set_uptime(static_cast<uint64_t>(std::max<int64_t>(0, now - observer->StartedUnix())));
        rsp.set_memory(p.heap_bytes > 0 ? p.heap_bytes : p.rss_bytes);  // 0 under sanitizers
        rsp.set_threads(p.threads);
        rsp.set_gc(0);
        rsp.set_requests(observer->Requests());
        rsp.set_errors(observer->Errors());
        return Status{};
      }));
  h.endpoints.push_back(StreamEndpoint<debug::LogRequest, debug::Record>(
      "Debug.Log", StreamKind::kServerStream, DebugLog));
  h.endpoints.push_back(UnaryEndpoint<debug::TraceRequest, debug::TraceResponse>(
      "Debug.Trace",
      [observer](Context&, const debug::TraceRequest& req, debug::TraceResponse& rsp) {
        if (trace::Tracer* tracer = observer->Tracer()) {
          for (const trace::Span& s : tracer->Recent(req.id())) FillSpan(s, *rsp.add_spans());
        }
        return Status{};
      }));
  return h;
}

}  // namespace micro
