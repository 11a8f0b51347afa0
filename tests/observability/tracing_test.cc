// Distributed tracing end to end: a trace id sent by a client is seen in the server's span, in
// a downstream call's headers, in a published message's subscriber, and in the OTLP JSON a
// fake collector on loopback receives.
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "http/server.h"
#include "micro/runtime.h"
#include "observability/obs_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

// Records the bodies POSTed to /v1/traces.
class FakeCollector {
 public:
  FakeCollector() {
    auto server = http::Server::Start(
        runtime_.executor(), {.address = "127.0.0.1:0"},
        [this](http::ServerRequest& req) -> asio::awaitable<http::ServerReply> {
          if (req.method == "POST" && req.path == "/v1/traces") {
            std::lock_guard lock(mu_);
            bodies_.push_back(req.body);
            content_types_.push_back(std::string(req.header.GetOr("Content-Type")));
          }
          co_return http::ServerReply{.status = 200, .body = "{}"};
        });
    server_ = *server;
  }
  ~FakeCollector() { server_->Close(); }
  std::string Addr() const { return server_->Addr(); }
  // Every exported span: (service.name, span JSON).
  std::vector<std::pair<std::string, nlohmann::json>> Spans() {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, nlohmann::json>> out;
    for (const auto& body : bodies_) {
      auto j = nlohmann::json::parse(body);
      for (const auto& rs : j["resourceSpans"]) {
        std::string service;
        for (const auto& a : rs["resource"]["attributes"]) {
          if (a["key"] == "service.name") service = a["value"]["stringValue"];
        }
        for (const auto& ss : rs["scopeSpans"]) {
          for (const auto& s : ss["spans"]) out.emplace_back(service, s);
        }
      }
    }
    return out;
  }
  std::vector<std::string> ContentTypes() {
    std::lock_guard lock(mu_);
    return content_types_;
  }

 private:
  Runtime runtime_{1};
  std::shared_ptr<http::Server> server_;
  std::mutex mu_;
  std::vector<std::string> bodies_, content_types_;
};

struct Seen {
  std::mutex mu;
  Metadata downstream;  // the request headers back received
  Metadata subscriber;  // the subscriber's metadata
  bool got_event = false;
};

Handler FrontHandler(std::shared_ptr<Client>* client, Seen* seen) {
  Handler h{.name = "Front"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Front.Hello",
      [client, seen](Context& ctx, const greeter::Request& req, greeter::Response& rsp) {
        (void)seen;
        // Downstream call and publish with the handler's context: the trace continues.
        auto down = Call<greeter::Response>(**client, ctx, "back", "Greeter.Hello", req);
        if (!down) return Status(down.error());
        if (Status s = Publish(**client, ctx, "trace.events", req); !s) return s;
        rsp.set_msg("front: " + down->msg());
        return Status{};
      }));
  return h;
}

class TracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = *NewMemoryRegistry();
    auto broker = *NewMemoryBroker();
    auto front_opts = obs_test::LoopbackService("front", registry);
    front_opts.broker_impl = broker;
    auto back_opts = obs_test::LoopbackService("back", registry);
    back_opts.broker_impl = broker;
    // Records the headers as they came (the handler's context already carries back's span).
    back_opts.wrappers.push_back([this](HandlerFunc next) -> HandlerFunc {
      return [this, next](Context& ctx, const ServerRequest& req,
                          google::protobuf::Message& rsp) -> asio::awaitable<Status> {
        {
          std::lock_guard lock(seen_.mu);
          seen_.downstream = req.header;
        }
        co_return co_await next(ctx, req, rsp);
      };
    });
    front_ = std::make_unique<Service>(front_opts);
    back_ = std::make_unique<Service>(back_opts);
    const std::string flag = "--tracer_address=" + collector_.Addr();
    ASSERT_TRUE(front_->Init({flag}, obs_test::NoEnv()).ok());
    ASSERT_TRUE(back_->Init({flag}, obs_test::NoEnv()).ok());
    front_client_ = front_->Client();
    ASSERT_TRUE(front_->Server().Handle(FrontHandler(&front_client_, &seen_)).ok());
    ASSERT_TRUE(back_->Server().Handle(obs_test::Greeter()).ok());
    ASSERT_TRUE(Subscribe<greeter::Request>(back_->Server(), "trace.events",
                                            [this](Context& ctx, const greeter::Request&) {
                                              std::lock_guard lock(seen_.mu);
                                              seen_.subscriber = ctx.metadata();
                                              seen_.got_event = true;
                                              return Status{};
                                            })
                    .ok());
    ASSERT_TRUE(back_->Start().ok());
    ASSERT_TRUE(front_->Start().ok());
  }
  void TearDown() override {
    front_client_.reset();
    if (front_) (void)front_->Stop();
    if (back_) (void)back_->Stop();
  }

  FakeCollector collector_;
  Seen seen_;
  std::unique_ptr<Service> front_, back_;
  std::shared_ptr<Client> front_client_;
};

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";

TEST_F(TracingTest, TraceIdFromClientReachesServerDownstreamSubscriberAndCollector) {
  // A W3C caller (an OpenTelemetry-instrumented go-micro client sends exactly this).
  Context ctx;
  ctx.metadata().Set("Traceparent", std::string("00-") + kTrace + "-00f067aa0ba902b7-01");
  ctx.metadata().Set("Tracestate", "vendor=x");
  greeter::Request req;
  req.set_name("trace");
  auto rsp = Call<greeter::Response>(*front_->Client(), ctx, "front", "Front.Hello", req);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "front: Hello trace");

  // 1. The server's span (front's handler) is in the trace.
  const auto front_spans = front_->Observer()->Tracer()->Recent(kTrace);
  const trace::Span* server = nullptr;
  const trace::Span* down_client = nullptr;
  const trace::Span* publish = nullptr;
  for (const auto& s : front_spans) {
    if (s.kind == trace::SpanKind::kServer) server = &s;
    if (s.kind == trace::SpanKind::kClient && s.name == "back.Greeter.Hello") down_client = &s;
    if (s.kind == trace::SpanKind::kProducer) publish = &s;
  }
  ASSERT_TRUE(server && down_client && publish) << front_spans.size();
  EXPECT_EQ(server->name, "front.Front.Hello");
  EXPECT_EQ(trace::Hex(down_client->parent_span_id), trace::Hex(server->span_id));
  EXPECT_EQ(publish->name, "Pub to trace.events");
  EXPECT_EQ(trace::Hex(publish->parent_span_id), trace::Hex(server->span_id));

  // 2. The downstream call carried the trace, with front's client span as the parent, in
  // both header families.
  {
    std::lock_guard lock(seen_.mu);
    EXPECT_EQ(seen_.downstream.GetOr("Traceparent"),
              std::string("00-") + kTrace + "-" + trace::Hex(down_client->span_id) + "-01");
    EXPECT_EQ(seen_.downstream.GetOr("Tracestate"), "vendor=x");
    EXPECT_EQ(seen_.downstream.GetOr("Micro-Trace-Id"), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736");
    // 3. The subscriber's context continues the trace too.
    ASSERT_TRUE(seen_.got_event);
    EXPECT_NE(seen_.subscriber.GetOr("Traceparent").find(kTrace), std::string::npos);
  }
  const auto back_spans = back_->Observer()->Tracer()->Recent(kTrace);
  bool back_server = false, consumer = false;
  for (const auto& s : back_spans) {
    if (s.kind == trace::SpanKind::kServer) {
      back_server = true;
      EXPECT_EQ(s.parent_span_id, down_client->span_id);
    }
    if (s.kind == trace::SpanKind::kConsumer) {
      consumer = true;
      EXPECT_EQ(s.name, "Sub from trace.events");
      EXPECT_EQ(s.parent_span_id, publish->span_id);
    }
  }
  EXPECT_TRUE(back_server);
  EXPECT_TRUE(consumer);

  // 4. The collector receives OTLP JSON from both services with the trace id; front's server
  // span's parent is the test's client span (made by front's client, a span of its own).
  const trace::Span* caller = nullptr;
  for (const auto& s : front_spans) {
    if (s.kind == trace::SpanKind::kClient && s.name == "front.Front.Hello") caller = &s;
  }
  ASSERT_TRUE(caller);
  EXPECT_EQ(trace::Hex(caller->parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(server->parent_span_id, caller->span_id);
  std::set<std::string> seen;
  ASSERT_TRUE(obs_test::Eventually([&] {
    seen.clear();
    for (const auto& [service, span] : collector_.Spans()) {
      if (span["traceId"] != kTrace) continue;
      seen.insert(service + " " + span["name"].get<std::string>() + " " +
                  std::to_string(span["kind"].get<int>()));
      if (span["name"] == "front.Front.Hello" && span["kind"] == 2) {
        EXPECT_EQ(span["parentSpanId"], trace::Hex(caller->span_id));
        EXPECT_EQ(span["spanId"], trace::Hex(server->span_id));
      }
    }
    return seen.count("front front.Front.Hello 2") && seen.count("back back.Greeter.Hello 2") &&
           seen.count("back Sub from trace.events 5") && seen.count("front Pub to trace.events 4");
  })) << seen.size();
  for (const auto& ct : collector_.ContentTypes()) EXPECT_EQ(ct, "application/json");
}

TEST_F(TracingTest, GoMicroTraceIdIsContinued) {
  // A go-micro (memory tracer) caller: a UUID trace id and span id, no traceparent.
  Context ctx;
  ctx.metadata().Set("Micro-Trace-Id", "0f8fad5b-d9cb-469f-a165-70867728950e");
  ctx.metadata().Set("Micro-Span-Id", "7c9e6679-7425-40de-944b-e07fc1f90ae7");
  greeter::Request req;
  req.set_name("go");
  ASSERT_TRUE(Call<greeter::Response>(*front_->Client(), ctx, "front", "Front.Hello", req).ok());
  std::lock_guard lock(seen_.mu);
  EXPECT_EQ(seen_.downstream.GetOr("Micro-Trace-Id"), "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_NE(seen_.downstream.GetOr("Traceparent").find("0f8fad5bd9cb469fa16570867728950e"),
            std::string::npos);
  EXPECT_FALSE(
      front_->Observer()->Tracer()->Recent("0f8fad5b-d9cb-469f-a165-70867728950e").empty());
}

TEST_F(TracingTest, UnsampledCallsPropagateButRecordNothing) {
  Context ctx;
  ctx.metadata().Set("Traceparent", std::string("00-") + kTrace + "-00f067aa0ba902b7-00");
  greeter::Request req;
  req.set_name("quiet");
  const uint64_t before = front_->Observer()->Tracer()->Recorded();
  ASSERT_TRUE(Call<greeter::Response>(*front_->Client(), ctx, "front", "Front.Hello", req).ok());
  EXPECT_EQ(front_->Observer()->Tracer()->Recorded(), before);
  std::lock_guard lock(seen_.mu);
  // The caller's headers travel on unchanged.
  EXPECT_EQ(seen_.downstream.GetOr("Traceparent"),
            std::string("00-") + kTrace + "-00f067aa0ba902b7-00");
}

}  // namespace
}  // namespace micro
