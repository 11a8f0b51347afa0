// The server and client wrappers that record metrics and spans for every call.
#include <optional>

#include "micro/observability.h"

namespace micro {
namespace {

namespace pb = google::protobuf;

bool IsDebugEndpoint(std::string_view endpoint) { return endpoint.rfind("Debug.", 0) == 0; }

void AddRpcAttributes(trace::Span& span, std::string_view service, std::string_view endpoint) {
  span.attributes.reserve(7);  // every attribute a call span gets: one allocation
  span.attributes.emplace_back("rpc.system", "micro");
  span.attributes.emplace_back("rpc.service", std::string(service));
  span.attributes.emplace_back("rpc.method", std::string(endpoint));
}

void EndWithStatus(trace::Tracer& tracer, trace::Span& span, const Status& status) {
  span.attributes.emplace_back("rpc.micro.code",
                               status.ok() ? "200" : std::to_string(status.error().code));
  span.SetStatus(status);
  tracer.End(std::move(span));
}

// The trace headers of a metadata, kept to be put back after a client attempt.
struct SavedTraceHeaders {
  std::optional<std::string> traceparent, tracestate, trace_id, span_id;
  static std::optional<std::string> Take(const Metadata& md, std::string_view key) {
    auto v = md.Get(key);
    if (!v) return std::nullopt;
    return std::string(*v);
  }
  explicit SavedTraceHeaders(const Metadata& md)
      : traceparent(Take(md, "Traceparent")),
        tracestate(Take(md, "Tracestate")),
        trace_id(Take(md, "Micro-Trace-Id")),
        span_id(Take(md, "Micro-Span-Id")) {}
  static void Put(Metadata& md, std::string_view key, std::optional<std::string>& v) {
    if (v) {
      md.Set(key, std::move(*v));
    } else {
      md.Delete(key);
    }
  }
  void Restore(Metadata& md) {
    Put(md, "Traceparent", traceparent);
    Put(md, "Tracestate", tracestate);
    Put(md, "Micro-Trace-Id", trace_id);
    Put(md, "Micro-Span-Id", span_id);
  }
};

}  // namespace

HandlerWrapper ServerWrapper(std::shared_ptr<Observer> observer) {
  return [observer](HandlerFunc next) -> HandlerFunc {
    // One chain per endpoint: its series is looked up on the first call and kept.
    auto slot = std::make_shared<std::atomic<Observer::CallSeries*>>(nullptr);
    return [observer, slot, next = std::move(next)](Context& ctx, const ServerRequest& req,
                                                    pb::Message& rsp) -> asio::awaitable<Status> {
      Observer::CallSeries* series = slot->load(std::memory_order_acquire);
      if (!series && observer->Metrics()) {
        series = observer->ServerSeries(req.endpoint);
        slot->store(series, std::memory_order_release);
      }
      std::optional<trace::Span> span;
      trace::Tracer* tracer = observer->Tracer();
      if (tracer && !IsDebugEndpoint(req.endpoint)) {
        span = tracer->Start(trace::SpanKind::kServer, trace::Extract(ctx.metadata()));
        if (span) {
          span->name.reserve(req.service.size() + 1 + req.endpoint.size());
          span->name.append(req.service).append(1, '.').append(req.endpoint);
          AddRpcAttributes(*span, req.service, req.endpoint);
          if (auto remote = ctx.metadata().Get("Remote")) {
            span->attributes.emplace_back("net.peer.name", std::string(*remote));
          }
          trace::Inject(*span, ctx.metadata());  // the handler's calls continue this span
        }
      }
      if (series) series->in_flight->Add(1);
      const TimePoint start = Clock::now();
      Status status = co_await next(ctx, req, rsp);
      const Duration took = Clock::now() - start;
      if (series) series->in_flight->Add(-1);
      observer->RecordServer(series, status, took);
      if (span) EndWithStatus(*tracer, *span, status);
      co_return status;
    };
  };
}

CallWrapper ClientWrapper(std::shared_ptr<Observer> observer) {
  return [observer](CallFunc next) -> CallFunc {
    return [observer, next = std::move(next)](Context& ctx, const registry::Node& node,
                                              const ClientRequest& req,
                                              codec::ReadBody rsp) -> asio::awaitable<Status> {
      Observer::CallSeries* series = observer->ClientSeries(req.service, req.endpoint);
      std::optional<trace::Span> span;
      std::optional<SavedTraceHeaders> saved;
      trace::Tracer* tracer = observer->Tracer();
      if (tracer) {
        span = tracer->Start(trace::SpanKind::kClient, trace::Extract(ctx.metadata()));
        if (span) {
          span->name.reserve(req.service.size() + 1 + req.endpoint.size());
          span->name.append(req.service).append(1, '.').append(req.endpoint);
          AddRpcAttributes(*span, req.service, req.endpoint);
          span->attributes.emplace_back("server.address", node.address);
          if (!node.id.empty()) span->attributes.emplace_back("micro.node", node.id);
          saved.emplace(ctx.metadata());
          trace::Inject(*span, ctx.metadata());
        }
      }
      if (series) series->in_flight->Add(1);
      const TimePoint start = Clock::now();
      Status status = co_await next(ctx, node, req, rsp);
      const Duration took = Clock::now() - start;
      if (series) series->in_flight->Add(-1);
      observer->RecordClient(series, status, took);
      if (span) {
        saved->Restore(ctx.metadata());  // a retry's span has the same parent
        EndWithStatus(*tracer, *span, status);
      }
      co_return status;
    };
  };
}

}  // namespace micro
