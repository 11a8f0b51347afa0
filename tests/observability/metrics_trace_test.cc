// Unit tests: the metrics registry and its text format (parsed by prometheus_client), process
// stats, trace context parsing and writing, sampling, the OTLP JSON body.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "micro/metrics.h"
#include "micro/trace.h"
#include "observability/obs_test_util.h"

namespace micro {
namespace {

using obs_test::ParsePrometheus;
using obs_test::Value;

TEST(MetricsTest, TextFormatParsesWithPrometheusClient) {
  metrics::Registry reg;
  auto& calls = reg.Counter("app_calls_total", "Calls made.", {"kind"});
  calls.With({"fast"}).Inc(3);
  calls.With({"we\"ird\\ \nvalue"}).Inc();
  reg.Gauge("app_open", "Open things.").With({}).Set(-2);
  auto& lat = reg.Histogram("app_latency_seconds", "Latency.", {"kind"}, {0.1, 1});
  lat.With({"fast"}).Observe(0.05);
  lat.With({"fast"}).Observe(0.5);
  lat.With({"fast"}).ObserveNanos(3'000'000'000);
  reg.AddCollector(metrics::RenderProcessMetrics);
  auto samples = ParsePrometheus(reg.Render());
  ASSERT_TRUE(samples) << reg.Render();
  EXPECT_EQ(Value(*samples, "app_calls_total", {{"kind", "fast"}}), 3);
  EXPECT_EQ(Value(*samples, "app_calls_total", {{"kind", "we\"ird\\ \nvalue"}}), 1);
  EXPECT_EQ(Value(*samples, "app_open"), -2);
  EXPECT_EQ(Value(*samples, "app_latency_seconds_bucket", {{"le", "0.1"}}), 1);
  EXPECT_EQ(Value(*samples, "app_latency_seconds_bucket", {{"le", "1"}}), 2);
  EXPECT_EQ(Value(*samples, "app_latency_seconds_bucket", {{"le", "+Inf"}}), 3);
  EXPECT_EQ(Value(*samples, "app_latency_seconds_count"), 3);
  EXPECT_NEAR(Value(*samples, "app_latency_seconds_sum"), 3.55, 1e-9);
  EXPECT_GT(Value(*samples, "process_resident_memory_bytes"), 1e6);
  EXPECT_GE(Value(*samples, "process_threads"), 1);
  EXPECT_GT(Value(*samples, "process_open_fds"), 2);
  EXPECT_GT(Value(*samples, "process_start_time_seconds"), 1.6e9);
}

TEST(MetricsTest, RegisteringTwiceGivesTheSameFamilyOrThrows) {
  metrics::Registry reg;
  auto& a = reg.Counter("x_total", "X.", {"a"});
  EXPECT_EQ(&a, &reg.Counter("x_total", "X.", {"a"}));
  EXPECT_THROW(reg.Gauge("x_total", "X.", {"a"}), std::invalid_argument);
  EXPECT_THROW(reg.Counter("x_total", "X.", {"b"}), std::invalid_argument);
  EXPECT_THROW(a.With({"1", "2"}), std::invalid_argument);
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  metrics::Registry reg;
  auto& c = reg.Counter("n_total", "N.").With({});
  auto& h = reg.Histogram("h_seconds", "H.").With({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000u);
  EXPECT_EQ(h.Count(), 40000u);
  EXPECT_NEAR(h.Sum(), 40.0, 1e-6);
}

TEST(TraceTest, ReadsW3cTraceparentAndTracestate) {
  Metadata md{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
              {"tracestate", "congo=t61rcWkgMzE"}};
  auto sc = trace::Extract(md);
  ASSERT_TRUE(sc);
  EXPECT_TRUE(sc->from_traceparent);
  EXPECT_TRUE(sc->sampled);
  EXPECT_EQ(trace::Hex(sc->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace::Hex(sc->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(sc->tracestate, "congo=t61rcWkgMzE");

  md.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_FALSE(trace::Extract(md)->sampled);
  for (const char* bad : {"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "garbage"}) {
    Metadata bad_md{{"Traceparent", bad}};
    EXPECT_FALSE(trace::Extract(bad_md)) << bad;
  }
}

TEST(TraceTest, ReadsGoMicroUuidTraceIds) {
  Metadata md{{"Micro-Trace-Id", "0f8fad5b-d9cb-469f-a165-70867728950e"},
              {"Micro-Span-Id", "7c9e6679-7425-40de-944b-e07fc1f90ae7"}};
  auto sc = trace::Extract(md);
  ASSERT_TRUE(sc);
  EXPECT_FALSE(sc->from_traceparent);
  EXPECT_EQ(trace::Hex(sc->trace_id), "0f8fad5bd9cb469fa16570867728950e");
  EXPECT_EQ(trace::Hex(sc->span_id), "7c9e6679742540de");
  EXPECT_EQ(sc->micro_trace_id, "0f8fad5b-d9cb-469f-a165-70867728950e");
  // Any other text: hashed, the same each time.
  Metadata odd{{"Micro-Trace-Id", "my-request-42"}};
  EXPECT_EQ(trace::Extract(odd)->trace_id, trace::ParseTraceId("my-request-42"));
  EXPECT_FALSE(trace::Extract(Metadata{}));
}

// With traceparent, a Micro-Trace-Id is passed on as it came only when it names the same
// trace (UUID or hex, either case); one naming another trace is replaced by the UUID form.
TEST(TraceTest, MicroTraceIdOfTheSameTraceIsPassedOn) {
  const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  for (const char* same :
       {"4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "4BF92F35-77B3-4DA6-A3CE-929D0E0E4736",
        "4bf92f3577b34da6a3ce929d0e0e4736", "4BF92F3577B34DA6A3CE929D0E0E4736"}) {
    Metadata md{{"Traceparent", tp}, {"Micro-Trace-Id", same}};
    EXPECT_EQ(trace::Extract(md)->micro_trace_id, same);
  }
  for (const char* other : {"0f8fad5b-d9cb-469f-a165-70867728950e", "4bf92f35-77b3-4da6-a3ce",
                            "4bf92f35\r77b3-4da6-a3ce-929d0e0e4736", "my-request-42"}) {
    Metadata md{{"Traceparent", tp}, {"Micro-Trace-Id", other}};
    EXPECT_TRUE(trace::Extract(md)->micro_trace_id.empty()) << other;
  }
  // A Micro-Trace-Id that is hashed into the trace id (not a UUID) is passed on too.
  const std::string hashed = trace::Hex(trace::ParseTraceId("my-request-42"));
  Metadata md{{"Traceparent", "00-" + hashed + "-00f067aa0ba902b7-01"},
              {"Micro-Trace-Id", "my-request-42"}};
  EXPECT_EQ(trace::Extract(md)->micro_trace_id, "my-request-42");
}

TEST(TraceTest, ChildSpansContinueTheTraceAndAreWrittenBothWays) {
  trace::Tracer tracer({.service = "t", .sample_ratio = 0});
  Metadata in{{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}};
  auto span = tracer.Start(trace::SpanKind::kServer, trace::Extract(in));
  ASSERT_TRUE(span);  // the parent said sampled: ratio 0 does not matter
  EXPECT_EQ(trace::Hex(span->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace::Hex(span->parent_span_id), "00f067aa0ba902b7");
  Metadata out;
  trace::Inject(*span, out);
  EXPECT_EQ(out.GetOr("Traceparent"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-" + trace::Hex(span->span_id) + "-01");
  EXPECT_EQ(out.GetOr("Micro-Trace-Id"), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
  EXPECT_EQ(out.GetOr("Micro-Span-Id"), trace::Hex(span->span_id));
  // Written over the headers that came in (as a server does): the same values.
  trace::Inject(*span, in);
  EXPECT_EQ(in, out);
  // Reading what we wrote gives this span as the parent.
  auto back = trace::Extract(out);
  EXPECT_EQ(back->trace_id, span->trace_id);
  EXPECT_EQ(back->span_id, span->span_id);
  tracer.End(std::move(*span));
  EXPECT_EQ(tracer.Recent("4bf92f35-77b3-4da6-a3ce-929d0e0e4736").size(), 1u);
  EXPECT_EQ(tracer.Recent("4bf92f3577b34da6a3ce929d0e0e4736").size(), 1u);
  EXPECT_TRUE(tracer.Recent("0f8fad5bd9cb469fa16570867728950e").empty());
}

TEST(TraceTest, SamplingRatio) {
  trace::Tracer none({.sample_ratio = 0});
  trace::Tracer all({.sample_ratio = 1});
  trace::Tracer half({.sample_ratio = 0.5});
  int sampled = 0;
  for (int i = 0; i < 2000; ++i) {
    EXPECT_FALSE(none.Start(trace::SpanKind::kClient, std::nullopt));
    EXPECT_TRUE(all.Start(trace::SpanKind::kClient, std::nullopt));
    if (half.Start(trace::SpanKind::kClient, std::nullopt)) ++sampled;
  }
  EXPECT_GT(sampled, 800);
  EXPECT_LT(sampled, 1200);
  // An unsampled traceparent is not recorded even at ratio 1.
  Metadata md{{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}};
  EXPECT_FALSE(all.Start(trace::SpanKind::kServer, trace::Extract(md)));
  EXPECT_TRUE(trace::ParseSampleRatio("0.25").ok());
  EXPECT_FALSE(trace::ParseSampleRatio("1.5").ok());
  EXPECT_FALSE(trace::ParseSampleRatio("half").ok());
}

TEST(TraceTest, OtlpJsonBody) {
  trace::Span s;
  s.trace_id = trace::ParseTraceId("4bf92f3577b34da6a3ce929d0e0e4736");
  s.span_id = {1, 2, 3, 4, 5, 6, 7, 8};
  s.name = "greeter.Greeter.Hello";
  s.tracestate = "a=\"b\"";
  s.kind = trace::SpanKind::kServer;
  s.start_unix_nanos = 1000;
  s.end_unix_nanos = 2500;
  s.attributes = {{"rpc.system", "micro"}};
  s.error = true;
  s.status_message = std::string("boom \"x\"\n\x01 \xff end \xc3\xa9");
  auto j = nlohmann::json::parse(trace::OtlpHttpExporter::ToOtlpJson(
      {s}, {.service_name = "greeter", .service_version = "1.0"}));
  const auto& rs = j["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "greeter");
  const auto& span = rs["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span["spanId"], "0102030405060708");
  EXPECT_FALSE(span.contains("parentSpanId"));
  EXPECT_EQ(span["kind"], 2);
  EXPECT_EQ(span["startTimeUnixNano"], "1000");
  EXPECT_EQ(span["endTimeUnixNano"], "2500");
  EXPECT_EQ(span["status"]["code"], 2);
  // Escaped, and the invalid byte replaced: the body stays valid JSON and UTF-8.
  EXPECT_EQ(span["status"]["message"], "boom \"x\"\n\x01 \xEF\xBF\xBD end \xc3\xa9");
  EXPECT_EQ(span["traceState"], "a=\"b\"");
  EXPECT_EQ(span["attributes"][0]["value"]["stringValue"], "micro");
}

TEST(TraceTest, ExporterQueueIsBoundedAndNeverBlocks) {
  // Nobody listens on port 9 of loopback: every POST fails fast; the queue drops beyond 4.
  trace::OtlpHttpExporter exporter({.address = "127.0.0.1:9",
                                    .max_queue = 4,
                                    .max_batch = 512,
                                    .interval = std::chrono::seconds(30),
                                    .timeout = std::chrono::milliseconds(200)});
  for (int i = 0; i < 10; ++i) exporter.Export(std::make_shared<trace::Span>());
  EXPECT_EQ(exporter.Dropped(), 6u);
  exporter.Shutdown();  // flushes the 4 (which fail) and stops
  EXPECT_EQ(exporter.Failed(), 4u);
  exporter.Export(std::make_shared<trace::Span>());
  EXPECT_EQ(exporter.Dropped(), 7u);  // after shutdown: dropped
}

}  // namespace
}  // namespace micro
