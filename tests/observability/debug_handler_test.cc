// go-micro's Debug handler on every Service: answered over the go-micro wire (the request
// bytes a go-micro v5 client sends, reference/go-micro-wire.md, replayed on a raw socket) and
// from our own client (Health, Stats, Trace, and the Log stream).
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include "debug.pb.h"
#include "micro/logger.h"
#include "observability/obs_test_util.h"
#include "support/raw_http.h"

namespace micro {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

// A go-micro v5 client's request (connection A of the capture) for another endpoint.
std::string GoMicroRequest(const std::string& host, std::string_view content_type,
                           std::string_view service, std::string_view endpoint,
                           std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nAccept: " + std::string(content_type) +
         "\r\nContent-Type: " + std::string(content_type) +
         "\r\nMicro-Endpoint: " + std::string(endpoint) + "\r\nMicro-Id: 0" +
         "\r\nMicro-Method: " + std::string(endpoint) +
         "\r\nMicro-Service: " + std::string(service) + "\r\nTimeout: 5000000000\r\n\r\n" +
         std::string(body);
}

using micro::testing::Exchange;
using micro::testing::RawResponse;

class DebugHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    svc_ = std::make_unique<Service>(obs_test::LoopbackService("greeter", *NewMemoryRegistry()));
    ASSERT_TRUE(svc_->Init({"--tracer_sample=1"}, obs_test::NoEnv()).ok());
    ASSERT_TRUE(svc_->Server()
                    .Handle(obs_test::Greeter([](Context&, const greeter::Request& r) {
                      if (r.name() == "fail") return Status(errors::NotFound("greeter", "no"));
                      return Status{};
                    }))
                    .ok());
    ASSERT_TRUE(svc_->Start().ok());
    addr_ = svc_->Server().Address();
  }
  void TearDown() override {
    if (svc_) (void)svc_->Stop();
  }
  Status Hello(const std::string& name) {
    Context ctx;
    greeter::Request req;
    req.set_name(name);
    return Call<greeter::Response>(*svc_->Client(), ctx, "greeter", "Greeter.Hello", req).status();
  }
  std::unique_ptr<Service> svc_;
  std::string addr_;
};

TEST_F(DebugHandlerTest, HealthOverTheGoMicroWireJson) {
  RawResponse r =
      Exchange(addr_, GoMicroRequest(addr_, "application/json", "greeter", "Debug.Health", "{}\n"));
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.headers.count("Micro-Error"), 0u);
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  EXPECT_EQ(r.headers["Micro-Endpoint"], "Debug.Health");
  EXPECT_EQ(r.body, "{\"status\":\"ok\"}\n");  // what a go-micro server's encoding/json writes
}

TEST_F(DebugHandlerTest, HealthOverTheGoMicroWireProtobuf) {
  // HealthRequest{service:"greeter"} = 0a 07 "greeter"; the answer HealthResponse{status:"ok"}.
  RawResponse r =
      Exchange(addr_, GoMicroRequest(addr_, "application/protobuf", "greeter", "Debug.Health",
                                     std::string("\x0a\x07greeter", 9)));
  EXPECT_EQ(r.headers.count("Micro-Error"), 0u);
  EXPECT_EQ(r.body, std::string("\x0a\x02ok", 4));
}

TEST_F(DebugHandlerTest, StatsOverTheGoMicroWireCountRequestsAndErrors) {
  ASSERT_TRUE(Hello("a").ok());
  ASSERT_TRUE(Hello("b").ok());
  ASSERT_FALSE(Hello("fail").ok());
  RawResponse r =
      Exchange(addr_, GoMicroRequest(addr_, "application/json", "greeter", "Debug.Stats", "{}\n"));
  ASSERT_EQ(r.headers.count("Micro-Error"), 0u) << r.headers["Micro-Error"];
  auto j = nlohmann::json::parse(r.body);
  // proto3 JSON: uint64 as strings; the three greetings (the Stats call itself is counted
  // once it has answered).
  EXPECT_EQ(j["requests"], "3");
  EXPECT_EQ(j["errors"], "1");
  EXPECT_GT(std::stoull(j["memory"].get<std::string>()), 0u);
  EXPECT_GT(std::stoull(j["threads"].get<std::string>()), 1u);
  EXPECT_GT(std::stoull(j["started"].get<std::string>()), 1600000000u);
}

TEST_F(DebugHandlerTest, NotAdvertisedInTheRegistry) {
  for (const auto& e : svc_->Server().Registration().endpoints)
    EXPECT_NE(e.name.rfind("Debug."), 0u);
}

TEST_F(DebugHandlerTest, OurClientCallsHealthStatsAndTrace) {
  Context ctx;
  ctx.metadata().Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  greeter::Request req;
  req.set_name("traced");
  ASSERT_TRUE(Call<greeter::Response>(*svc_->Client(), ctx, "greeter", "Greeter.Hello", req).ok());

  Context c2;
  auto health = Call<debug::HealthResponse>(*svc_->Client(), c2, "greeter", "Debug.Health",
                                            debug::HealthRequest());
  ASSERT_TRUE(health.ok()) << health.error();
  EXPECT_EQ(health->status(), "ok");
  auto stats = Call<debug::StatsResponse>(*svc_->Client(), c2, "greeter", "Debug.Stats",
                                          debug::StatsRequest());
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_GE(stats->requests(), 2u);  // the greeting and the health check

  debug::TraceRequest treq;
  treq.set_id("0af7651916cd43dd8448eb211c80319c");
  auto traced = Call<debug::TraceResponse>(*svc_->Client(), c2, "greeter", "Debug.Trace", treq);
  ASSERT_TRUE(traced.ok()) << traced.error();
  // The client attempt and the server handler: one trace, the server's parent is the client's.
  ASSERT_EQ(traced->spans_size(), 2);
  const debug::Span* server = nullptr;
  const debug::Span* client = nullptr;
  for (const auto& s : traced->spans()) (s.type() == debug::INBOUND ? server : client) = &s;
  ASSERT_TRUE(server && client);
  EXPECT_EQ(server->name(), "greeter.Greeter.Hello");
  EXPECT_EQ(client->parent(), "b7ad6b7169203331");
  EXPECT_EQ(server->parent(), client->id());
  EXPECT_EQ(server->trace(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_GT(server->duration(), 0u);
  EXPECT_EQ(server->metadata().at("rpc.method"), "Greeter.Hello");

  // Debug.* calls themselves are not traced.
  Context c3;
  auto all = Call<debug::TraceResponse>(*svc_->Client(), c3, "greeter", "Debug.Trace",
                                        debug::TraceRequest());
  for (const auto& s : all->spans()) {
    if (s.type() == debug::INBOUND) {
      EXPECT_EQ(s.name().find("Debug."), std::string::npos);
    }
  }
}

TEST_F(DebugHandlerTest, LogReturnsRecentLinesAndStreamsNewOnes) {
  log::With({{"k", "v1"}}).Warn("debug-log-test line one");
  Context ctx;
  auto stream =
      OpenStream<debug::LogRequest, debug::Record>(*svc_->Client(), ctx, "greeter", "Debug.Log");
  ASSERT_TRUE(stream.ok()) << stream.error();
  debug::LogRequest req;
  req.set_count(5);
  req.set_stream(true);
  ASSERT_TRUE(stream->Send(req).ok());
  debug::Record rec;
  bool saw_old = false;
  while (!saw_old && stream->Recv(rec)) saw_old = rec.message() == "debug-log-test line one";
  ASSERT_TRUE(saw_old);
  EXPECT_EQ(rec.metadata().at("level"), "warn");
  EXPECT_EQ(rec.metadata().at("k"), "v1");
  EXPECT_EQ(rec.metadata().at("service"), "greeter");
  EXPECT_GT(rec.timestamp(), 1600000000);
  // Following: a line logged now arrives.
  log::Warn("debug-log-test line two");
  bool saw_new = false;
  while (!saw_new && stream->Recv(rec)) saw_new = rec.message() == "debug-log-test line two";
  EXPECT_TRUE(saw_new);
  (void)stream->Close();

  // Without `stream`: the buffered lines, then the end.
  auto once =
      OpenStream<debug::LogRequest, debug::Record>(*svc_->Client(), ctx, "greeter", "Debug.Log");
  ASSERT_TRUE(once.ok());
  debug::LogRequest one;
  one.set_count(1);
  ASSERT_TRUE(once->Send(one).ok());
  int n = 0;
  while (once->Recv(rec)) ++n;
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(once->status().ok()) << once->status().error();
}

TEST(DebugHandlerOptOut, FlagTurnsItOff) {
  Service svc(obs_test::LoopbackService("plain", *NewMemoryRegistry()));
  ASSERT_TRUE(svc.Init({"--debug_handler=false"}, obs_test::NoEnv()).ok());
  ASSERT_TRUE(svc.Server().Handle(obs_test::Greeter()).ok());
  ASSERT_TRUE(svc.Start().ok());
  Context ctx;
  auto health = Call<debug::HealthResponse>(*svc.Client(), ctx, "plain", "Debug.Health",
                                            debug::HealthRequest());
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.error().detail.find("can't find service Debug"), std::string::npos);
  EXPECT_FALSE(svc.Init({"--debug_handler=maybe"}, obs_test::NoEnv()).ok());
  (void)svc.Stop();
}

}  // namespace
}  // namespace micro
