// go-micro flags added for parity: --client / --server (implementation names), --profile
// bundles, transport TLS flags, and MICRO_PROXY naming a service.
#include <gtest/gtest.h>

#include <map>

#include "micro/service.h"
#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

auto FlagEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ServiceFlagsTest, ClientAndServerImplementationNames) {
  Service ok({.registry = "memory", .transport = "memory", .handle_signals = false});
  ASSERT_TRUE(ok.Init({"--client=mucp", "--server", "mucp"}, FlagEnv({})).ok());
  EXPECT_EQ(ok.Options().client_plugin, "mucp");

  Service grpc({.registry = "memory", .transport = "memory", .handle_signals = false});
  Status s = grpc.Init({"--client=grpc"}, FlagEnv({}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 400);
  EXPECT_NE(s.error().detail.find("Client grpc not found"), std::string::npos) << s.error();

  Service server({.registry = "memory", .transport = "memory", .handle_signals = false});
  s = server.Init({}, FlagEnv({{"MICRO_SERVER", "grpc"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("Server grpc not found"), std::string::npos) << s.error();
}

// --threads / MICRO_THREADS: the service's I/O threads (the flag wins); nonsense is refused.
TEST(ServiceFlagsTest, ThreadsFlagSetsTheIoThreads) {
  Service flag({.registry = "memory", .transport = "memory", .handle_signals = false});
  ASSERT_TRUE(flag.Init({"--threads", "1"}, FlagEnv({{"MICRO_THREADS", "3"}})).ok());
  EXPECT_EQ(flag.Options().threads, 1u);  // ThreadCountTest: threads = N runs N I/O threads

  Service env({.registry = "memory", .transport = "memory", .handle_signals = false});
  ASSERT_TRUE(env.Init({}, FlagEnv({{"MICRO_THREADS", "3"}})).ok());
  EXPECT_EQ(env.Options().threads, 3u);

  for (const char* bad : {"-1", "many", "5000"}) {
    Service refused({.registry = "memory", .transport = "memory", .handle_signals = false});
    Status s = refused.Init({std::string("--threads=") + bad}, FlagEnv({}));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, 400);
    EXPECT_NE(s.error().detail.find("--threads"), std::string::npos) << s.error();
  }
}

// --profile sets plugin names first; every other flag or variable wins over it. (Never "local"
// alone here: it would open mDNS sockets outside a private network namespace.)
TEST(ServiceFlagsTest, ProfileBundlesPluginNamesAndOtherFlagsWin) {
  Service local({.handle_signals = false});
  ASSERT_TRUE(local
                  .Init({"--profile", "local", "--registry=memory", "--transport=memory"},
                        FlagEnv({{"MICRO_BROKER", "memory"}}))
                  .ok());
  EXPECT_EQ(local.Options().profile, "local");
  EXPECT_EQ(local.Options().registry, "memory");
  EXPECT_EQ(local.Options().broker, "memory");

  // nats: names and MICRO_NATS_ADDRESS; without the nats plugin linked, Init names it.
  Service nats({.handle_signals = false});
  Status s = nats.Init(
      {}, FlagEnv({{"MICRO_PROFILE", "nats"}, {"MICRO_NATS_ADDRESS", "nats://127.0.0.1:1"}}));
  EXPECT_EQ(nats.Options().registry, "nats");
  EXPECT_EQ(nats.Options().transport, "nats");
  EXPECT_EQ(nats.Options().broker, "nats");
  EXPECT_EQ(nats.Options().registry_address, std::vector<std::string>{"nats://127.0.0.1:1"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("nats"), std::string::npos) << s.error();

  Service bad({.handle_signals = false});
  s = bad.Init({"--profile=cloud"}, FlagEnv({}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("unknown profile \"cloud\""), std::string::npos) << s.error();
}

// TLS by flags, end to end: a service listening with a self-signed certificate; a client with
// --transport_secure and --tls_insecure reaches it, one that verifies does not.
TEST(ServiceFlagsTest, TransportTlsFlags) {
  auto registry = *NewMemoryRegistry();
  Service server({.name = "greeter",
                  .address = "127.0.0.1:0",
                  .registry_impl = registry,
                  .handle_signals = false});
  ASSERT_TRUE(server.Init({"--transport_secure=true"}, FlagEnv({})).ok());
  EXPECT_TRUE(server.Options().transport_secure);
  ASSERT_TRUE(server.Server().Handle(testing_util::GreeterHandler()).ok());
  ASSERT_TRUE(server.Start().ok());

  auto call = [&](std::vector<std::string> flags,
                  std::map<std::string, std::string> env) -> Result<greeter::Response> {
    Service client({.name = "caller", .registry_impl = registry, .handle_signals = false});
    if (Status s = client.Init(flags, FlagEnv(env)); !s) return std::move(s).error();
    Context ctx;
    greeter::Request req;
    req.set_name("tls");
    return Call<greeter::Response>(*client.Client(), ctx, "greeter", "Greeter.Hello", req,
                                   {.retries = 0});
  };
  auto insecure = call({"--transport_secure", "true"}, {{"MICRO_TLS_INSECURE", "true"}});
  ASSERT_TRUE(insecure.ok()) << insecure.error();
  EXPECT_EQ(insecure->msg(), "Hello tls");
  auto verifying = call({"--transport_secure=true"}, {});
  EXPECT_FALSE(verifying.ok());  // self-signed: not trusted
  auto plain = call({}, {});
  EXPECT_FALSE(plain.ok());  // no TLS against a TLS listener
  EXPECT_FALSE(call({"--tls_insecure=maybe"}, {}).ok());
  ASSERT_TRUE(server.Stop().ok());
}

// MICRO_PROXY without a port names a service: every call goes to its nodes, still naming the
// service it is for; "service" stands for go.micro.proxy.
TEST(ServiceFlagsTest, MicroProxyNamesAService) {
  auto registry = *NewMemoryRegistry();
  auto transport = *Transports().Create("http", {});
  std::string asked_for;
  auto proxy = NewServer({.name = "go.micro.proxy",
                          .address = "127.0.0.1:0",
                          .transport = transport,
                          .registry = registry});
  ASSERT_TRUE(proxy.ok());
  ASSERT_TRUE((*proxy)
                  ->Handle(testing_util::GreeterHandler([&](Context& ctx, const greeter::Request&) {
                    asked_for = ctx.metadata().GetOr("Micro-Service");
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE((*proxy)->Start().ok());

  Service caller({.name = "caller", .registry_impl = registry, .handle_signals = false});
  ASSERT_TRUE(caller.Init({}, FlagEnv({{"MICRO_PROXY", "service"}})).ok());
  EXPECT_EQ(caller.Options().client.proxy_service, "go.micro.proxy");
  Context ctx;
  greeter::Request req;
  req.set_name("via proxy");
  auto rsp = Call<greeter::Response>(*caller.Client(), ctx, "greeter", "Greeter.Hello", req,
                                     {.retries = 0});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello via proxy");
  EXPECT_EQ(asked_for, "greeter");

  Service named({.name = "caller2", .registry_impl = registry, .handle_signals = false});
  ASSERT_TRUE(named.Init({}, FlagEnv({{"MICRO_PROXY", "my.proxy"}})).ok());
  EXPECT_EQ(named.Options().client.proxy_service, "my.proxy");
  EXPECT_TRUE(named.Options().client.proxy.empty());
  ASSERT_TRUE((*proxy)->Stop().ok());
}

}  // namespace
}  // namespace micro
