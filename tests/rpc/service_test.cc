// micro::Service: go-micro's flags and environment, plugin names, lifecycle and hooks.
#include "micro/service.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>

#include "registry/counting_registry.h"
#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

auto Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ServiceTest, FlagsAndEnvironmentAsGoMicro) {
  Service svc({.name = "greeter"});
  ASSERT_TRUE(
      svc.Init({"--registry=memory", "--transport", "memory", "--server_address=127.0.0.1:0",
                "--register_ttl=10", "--register_interval", "5", "--client_request_timeout=1m30s",
                "--client_retries=2", "--server_metadata=zone=a,rack=b=c", "--my_own_flag", "x"},
               Env({{"MICRO_REGISTRY", "mdns"},  // the flag wins
                    {"MICRO_SERVER_VERSION", "1.2.3"},
                    {"MICRO_CLIENT_POOL_SIZE", "7"},
                    {"MICRO_PROXY", "127.0.0.1:9"}}))
          .ok());
  const auto& o = svc.Options();
  EXPECT_EQ(o.registry, "memory");
  EXPECT_EQ(o.transport, "memory");
  EXPECT_EQ(o.version, "1.2.3");
  EXPECT_EQ(o.address, "127.0.0.1:0");
  EXPECT_EQ(o.register_ttl, 10s);
  EXPECT_EQ(o.register_interval, 5s);
  EXPECT_EQ(o.client.request_timeout, 90s);
  EXPECT_EQ(o.client.retries, 2);
  EXPECT_EQ(o.client.pool_size, 7u);
  EXPECT_EQ(o.client.proxy, "127.0.0.1:9");
  EXPECT_EQ(o.metadata.at("zone"), "a");
  EXPECT_EQ(o.metadata.at("rack"), "b=c");
  EXPECT_EQ(svc.Registry()->String(), "memory");
  EXPECT_EQ(svc.Transport()->String(), "memory");
}

TEST(ServiceTest, UnknownPluginNameListsTheKnownOnes) {
  Service svc({.name = "x"});
  Status s = svc.Init({"--registry=etcd"}, Env({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("unknown registry \"etcd\" (known: "), std::string::npos);
  EXPECT_NE(s.error().detail.find("mdns"), std::string::npos);
  EXPECT_NE(s.error().detail.find("memory"), std::string::npos);
  Service bad({.name = "y"});
  EXPECT_FALSE(bad.Init({"--register_ttl=ten"}, Env({})).ok());
  EXPECT_FALSE(bad.Init({"--client_request_timeout=5 parsecs"}, Env({})).ok());
  EXPECT_NE(Service::Usage().find("--registry"), std::string::npos);
}

TEST(ServiceTest, GoDurations) {
  EXPECT_EQ(*ParseGoDuration("300ms"), 300ms);
  EXPECT_EQ(*ParseGoDuration("1.5h"), 90min);
  EXPECT_EQ(*ParseGoDuration("2h45m"), 165min);
  EXPECT_EQ(*ParseGoDuration("10us"), 10us);
  EXPECT_EQ(*ParseGoDuration("0"), Duration::zero());
  EXPECT_EQ(*ParseGoDuration("-1s"), -1s);
  for (const char* bad : {"", "5", "s", "1x", "1.2.3s"})
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
}

TEST(ServiceTest, RunServesUntilShutdownWithHooksInOrder) {
  std::vector<std::string> order;
  auto hook = [&](std::string name) -> std::function<Status()> {
    return [&order, name] {
      order.push_back(name);
      return Status{};
    };
  };
  Service svc({.name = "greeter",
               .address = "127.0.0.1:0",
               .registry = "memory",
               .transport = "memory",
               .before_start = {hook("before_start")},
               .after_start = {hook("after_start")},
               .before_stop = {hook("before_stop")},
               .after_stop = {hook("after_stop")},
               .handle_signals = false});
  ASSERT_TRUE(svc.Init({}, Env({})).ok());
  ASSERT_TRUE(svc.Server().Handle(testing_util::GreeterHandler()).ok());
  auto run = std::async(std::launch::async, [&] { return svc.Run(); });
  // Call it through the service's own client once it is registered.
  Result<greeter::Response> rsp = errors::InternalServerError("test", "not called");
  for (int i = 0; i < 200 && !rsp.ok(); ++i) {
    Context ctx;
    greeter::Request req;
    req.set_name("svc");
    rsp = Call<greeter::Response>(*svc.Client(), ctx, "greeter", "Greeter.Hello", req,
                                  {.retries = 0});
    if (!rsp.ok()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello svc");
  svc.Shutdown();
  EXPECT_EQ(run.get(), 0);
  EXPECT_EQ(order,
            (std::vector<std::string>{"before_start", "after_start", "before_stop", "after_stop"}));
  EXPECT_FALSE(svc.Registry()->GetService("greeter").ok());  // deregistered
}

TEST(ServiceTest, ProxySendsEveryCallToOneAddress) {
  auto p = testing_util::RpcPair::Make("http");
  ASSERT_TRUE(p.server->Handle(testing_util::GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Service caller({.name = "caller", .registry = "memory"});  // knows nothing of greeter
  ASSERT_TRUE(caller.Init({}, Env({{"MICRO_PROXY", p.server->Address()}})).ok());
  Context ctx;
  greeter::Request req;
  req.set_name("proxy");
  auto rsp = Call<greeter::Response>(*caller.Client(), ctx, "greeter", "Greeter.Hello", req);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello proxy");
}

// The client's selector and the broker look services up through ONE registry cache: one watch
// on the registry, not one per cache.
TEST(ServiceTest, ClientAndBrokerShareOneRegistryCache) {
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  Service svc({.name = "sharing",
               .address = "127.0.0.1:0",
               .transport = "memory",
               .registry_impl = counting,
               .handle_signals = false});
  ASSERT_TRUE(svc.Init({}, Env({})).ok());
  Context ctx;
  greeter::Request req;
  req.set_name("x");
  // The client looks "nobody" up (through the selector's cache).
  EXPECT_FALSE(
      Call<greeter::Response>(*svc.Client(), ctx, "nobody", "X.Y", req, {.retries = 0}).ok());
  // The broker looks its subscribers up (through its cache) to deliver.
  auto broker = svc.Broker();
  ASSERT_TRUE(broker->Connect().ok());
  std::promise<void> delivered;
  std::once_flag once;
  auto sub = broker->Subscribe("sharing.events", [&](const broker::Event&) {
    std::call_once(once, [&] { delivered.set_value(); });
    return Status{};
  });
  ASSERT_TRUE(sub.ok()) << sub.error();
  ASSERT_TRUE(broker->Publish("sharing.events", {.body = "hi"}).ok());
  ASSERT_EQ(delivered.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_GE(counting->lookups, 2);  // both looked something up
  // A cache starts its watch 0-100 ms after its first lookup.
  const auto deadline = Clock::now() + 5s;
  while (counting->watches == 0 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(counting->watches, 1);
  (void)(*sub)->Unsubscribe();
}

}  // namespace
}  // namespace micro
