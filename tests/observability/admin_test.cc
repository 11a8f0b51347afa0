// The admin HTTP listener (--debug_address): /metrics scraped with curl and parsed by
// prometheus_client, counters moving as calls are made; /health/ready flipping while the
// service drains; user health checks.
#include <gtest/gtest.h>

#include <future>

#include "micro/broker.h"
#include "observability/obs_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using obs_test::CurlGet;
using obs_test::ParsePrometheus;
using obs_test::Value;

std::vector<obs_test::Sample> Scrape(const std::string& addr) {
  auto r = CurlGet("http://" + addr + "/metrics");
  EXPECT_EQ(r.status, 200);
  auto samples = ParsePrometheus(r.body);
  EXPECT_TRUE(samples) << r.body;
  return samples.value_or(std::vector<obs_test::Sample>{});
}

TEST(AdminTest, MetricsMoveAsCallsAreMade) {
  auto registry = *NewMemoryRegistry();
  Service back(obs_test::LoopbackService("back", registry));
  ASSERT_TRUE(back.Init({"--debug_address=127.0.0.1:0"}, obs_test::NoEnv()).ok());
  ASSERT_TRUE(back.Server()
                  .Handle(obs_test::Greeter([](Context&, const greeter::Request& r) {
                    if (r.name() == "bad") return Status(errors::BadRequest("back", "bad"));
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(Subscribe<greeter::Request>(back.Server(), "obs.events",
                                          [](Context&, const greeter::Request& r) {
                                            return r.name() == "reject"
                                                       ? Status(errors::BadRequest("back", "no"))
                                                       : Status{};
                                          })
                  .ok());
  ASSERT_TRUE(back.Start().ok());
  const std::string admin = back.DebugAddress();
  ASSERT_FALSE(admin.empty());
  EXPECT_EQ(admin.rfind("127.0.0.1:", 0), 0u);

  auto before = Scrape(admin);
  const std::map<std::string, std::string> ok{
      {"service", "back"}, {"endpoint", "Greeter.Hello"}, {"status", "success"}};
  EXPECT_EQ(Value(before, "micro_request_total", ok), 0);

  for (int i = 0; i < 3; ++i) {
    Context ctx;
    greeter::Request req;
    req.set_name("n");
    ASSERT_TRUE(Call<greeter::Response>(*back.Client(), ctx, "back", "Greeter.Hello", req).ok());
  }
  Context ctx;
  greeter::Request bad;
  bad.set_name("bad");
  EXPECT_FALSE(Call<greeter::Response>(*back.Client(), ctx, "back", "Greeter.Hello", bad).ok());
  greeter::Request event;
  event.set_name("fine");
  ASSERT_TRUE(Publish(*back.Client(), ctx, "obs.events", event).ok());
  event.set_name("reject");
  ASSERT_TRUE(Publish(*back.Client(), ctx, "obs.events", event).ok());

  auto after = Scrape(admin);
  // Server side (go-micro's names and labels), with the code.
  EXPECT_EQ(Value(after, "micro_request_total", ok), 3);
  EXPECT_EQ(Value(after, "micro_request_total",
                  {{"service", "back"},
                   {"endpoint", "Greeter.Hello"},
                   {"status", "fail"},
                   {"code", "400"}}),
            1);
  EXPECT_EQ(Value(after, "micro_request_duration_seconds_count", ok), 3);
  EXPECT_GT(Value(after, "micro_request_duration_seconds_sum", ok), 0);
  EXPECT_EQ(Value(after, "micro_request_duration_seconds_bucket",
                  {{"service", "back"},
                   {"endpoint", "Greeter.Hello"},
                   {"status", "success"},
                   {"le", "+Inf"}}),
            3);
  EXPECT_EQ(Value(after, "micro_requests_in_flight",
                  {{"service", "back"}, {"endpoint", "Greeter.Hello"}}),
            0);
  // Client side: per remote service and endpoint.
  EXPECT_EQ(Value(after, "micro_client_request_total",
                  {{"service", "back"}, {"endpoint", "Greeter.Hello"}, {"status", "success"}}),
            3);
  EXPECT_EQ(Value(after, "micro_client_request_total",
                  {{"service", "back"}, {"endpoint", "Greeter.Hello"}, {"status", "fail"}}),
            1);
  // Broker.
  EXPECT_EQ(Value(after, "micro_broker_published_total",
                  {{"topic", "obs.events"}, {"status", "success"}}),
            2);
  EXPECT_EQ(Value(after, "micro_broker_delivered_total",
                  {{"topic", "obs.events"}, {"status", "success"}}),
            1);
  EXPECT_EQ(
      Value(after, "micro_broker_delivered_total", {{"topic", "obs.events"}, {"status", "fail"}}),
      1);
  // Registry: each of the 4 calls was answered either from the cache or by a lookup (how
  // many of each depends on timing: a watch event may empty the cache entry meanwhile).
  const double lookups = Value(after, "micro_registry_lookups_total", {{"status", "success"}});
  const double hits = Value(after, "micro_registry_cache_hits_total");
  EXPECT_GE(lookups, 1);
  EXPECT_GE(hits, 1);
  EXPECT_GE(lookups + hits, 4);
  // Process.
  EXPECT_GT(Value(after, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(Value(after, "process_threads"), 2);
  EXPECT_GT(Value(after, "process_open_fds"), 3);
  EXPECT_EQ(Value(after, "micro_service_info", {{"service", "back"}}), 1);

  auto live = CurlGet("http://" + admin + "/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(CurlGet("http://" + admin + "/nope").status, 404);
  ASSERT_TRUE(back.Stop().ok());
}

TEST(AdminTest, ReadyFlipsWhileDraining) {
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  Service svc(obs_test::LoopbackService("drainer", *NewMemoryRegistry()));
  ASSERT_TRUE(svc.Init({"--debug_address=127.0.0.1:0"}, obs_test::NoEnv()).ok());
  ASSERT_TRUE(svc.Server()
                  .Handle(obs_test::Greeter([&](Context&, const greeter::Request& r) {
                    if (r.name() == "slow") {
                      entered.set_value();
                      release_future.wait();
                    }
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(svc.Start().ok());
  const std::string admin = svc.DebugAddress();
  auto ready = CurlGet("http://" + admin + "/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  auto j = nlohmann::json::parse(ready.body);
  EXPECT_EQ(j["status"], "up");
  EXPECT_EQ(j["info"]["service"], "drainer");

  // A call in flight keeps the server draining after Stop begins.
  auto call = std::async(std::launch::async, [&] {
    Context ctx;
    greeter::Request req;
    req.set_name("slow");
    return Call<greeter::Response>(*svc.Client(), ctx, "drainer", "Greeter.Hello", req).status();
  });
  entered.get_future().wait();
  auto stop = std::async(std::launch::async, [&] { return svc.Stop(); });
  // While draining: not ready (503), but alive.
  ASSERT_TRUE(obs_test::Eventually(
      [&] { return CurlGet("http://" + admin + "/health/ready").status == 503; }));
  auto draining = CurlGet("http://" + admin + "/health");
  EXPECT_EQ(draining.status, 503);
  EXPECT_NE(draining.body.find("\"status\":\"down\""), std::string::npos) << draining.body;
  EXPECT_EQ(CurlGet("http://" + admin + "/health/live").status, 200);
  release.set_value();
  EXPECT_TRUE(call.get().ok());
  EXPECT_TRUE(stop.get().ok());
}

TEST(AdminTest, UserHealthChecksAndNotRegistered) {
  std::atomic<bool> db_up{true};
  Service svc(obs_test::LoopbackService("checked", *NewMemoryRegistry()));
  ASSERT_TRUE(svc.Init({},
                       [](const std::string& k) -> std::optional<std::string> {
                         if (k == "MICRO_DEBUG_ADDRESS") return "127.0.0.1:0";
                         return std::nullopt;
                       })
                  .ok());
  svc.AddHealthCheck({.name = "database", .check = [&]() -> Status {
                        if (db_up) return {};
                        return errors::InternalServerError("db", "connection refused");
                      }});
  svc.AddHealthCheck({.name = "cache",
                      .check = [] { return Status(errors::InternalServerError("cache", "cold")); },
                      .critical = false});
  ASSERT_TRUE(svc.Start().ok());
  const std::string admin = svc.DebugAddress();
  ASSERT_FALSE(admin.empty());
  auto up = CurlGet("http://" + admin + "/health/ready");
  EXPECT_EQ(up.status, 200) << up.body;  // a non-critical failure does not count
  EXPECT_NE(up.body.find("\"name\":\"cache\",\"status\":\"down\""), std::string::npos) << up.body;
  db_up = false;
  auto down = CurlGet("http://" + admin + "/health/ready");
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("connection refused"), std::string::npos) << down.body;
  // Debug.Health tells a go-micro `micro health` the same.
  Context ctx;
  greeter::Request any;
  codec::Frame rsp;
  const codec::Frame body{"{}"};
  ClientRequest req{"checked", "Debug.Health", "application/json", &body};
  ASSERT_TRUE(svc.Client()->Call(ctx, req, &rsp).ok());
  EXPECT_NE(rsp.data.find("unhealthy: database: connection refused"), std::string::npos)
      << rsp.data;
  db_up = true;
  // Deregistered (as when a register check fails): not ready.
  ASSERT_TRUE(svc.Registry()->Deregister(svc.Server().Registration()).ok());
  svc.Observer()->SetRegistered(false);
  EXPECT_EQ(CurlGet("http://" + admin + "/health/ready").status, 503);
  (void)svc.Stop();
}

TEST(AdminTest, OffByDefaultAndMetricsOptOut) {
  Service svc(obs_test::LoopbackService("quiet", *NewMemoryRegistry()));
  ASSERT_TRUE(svc.Init({"--metrics=false"}, obs_test::NoEnv()).ok());
  ASSERT_TRUE(svc.Start().ok());
  EXPECT_EQ(svc.DebugAddress(), "");
  EXPECT_EQ(svc.Observer()->Metrics(), nullptr);
  (void)svc.Stop();
  auto admin = AdminServer::Start({.address = ":0"}, svc.Observer());
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ((*admin)->Addr().rfind("127.0.0.1:", 0), 0u);  // ":port" means loopback
  EXPECT_EQ(CurlGet("http://" + (*admin)->Addr() + "/metrics").status, 404);
  (*admin)->Close();
}

}  // namespace
}  // namespace micro
