// Memory-registry specifics beyond the shared contract (go-micro's registry/memory.go).
#include <gtest/gtest.h>
#include <micro/registry.h>

#include <thread>

namespace micro {
namespace {

registry::Service Svc(const std::string& id) {
  registry::Service s;
  s.name = "svc";
  s.version = "1";
  registry::Node n;
  n.id = id;
  n.address = "127.0.0.1:1";
  s.nodes.push_back(n);
  return s;
}

TEST(MemoryRegistryTest, EmitsUpdateOnRegisterAndDeleteOnDeregisterAsGoMicro) {
  auto reg = *NewMemoryRegistry();
  auto w = reg->Watch();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg->Register(Svc("a")).ok());
  auto ev = (*w)->Next(std::chrono::seconds(1));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->type, registry::EventType::kUpdate);
  // Re-registering the same node only refreshes it: no event.
  ASSERT_TRUE(reg->Register(Svc("a")).ok());
  EXPECT_EQ((*w)->Next(std::chrono::milliseconds(50)).error().code, 408);
  ASSERT_TRUE(reg->Deregister(Svc("a")).ok());
  ev = (*w)->Next(std::chrono::seconds(1));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->type, registry::EventType::kDelete);
}

TEST(MemoryRegistryTest, RefreshKeepsANodeAlivePastItsTtl) {
  RegistryOptions o;
  o.params["memory.prune_interval_ms"] = "10";
  auto reg = *NewMemoryRegistry(o);
  const auto ttl = std::chrono::milliseconds(200);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(reg->Register(Svc("a"), {.ttl = ttl}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(reg->GetService("svc").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_FALSE(reg->GetService("svc").ok());
}

TEST(MemoryRegistryTest, ZeroTtlNeverExpires) {
  RegistryOptions o;
  o.params["memory.prune_interval_ms"] = "10";
  auto reg = *NewMemoryRegistry(o);
  ASSERT_TRUE(reg->Register(Svc("a")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_TRUE(reg->GetService("svc").ok());
}

TEST(MemoryRegistryTest, NextWithAnEndlessTimeoutWakesOnStop) {
  auto reg = *NewMemoryRegistry();
  auto w = reg->Watch();
  ASSERT_TRUE(w.ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (*w)->Stop();
  });
  auto ev = (*w)->Next(Duration::max());
  stopper.join();
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(registry::IsWatcherStopped(ev.error())) << ev.error();
}

// The example at the top of registry.h, with designated initialisers, builds warning-free.
TEST(MemoryRegistryTest, HeaderExampleWorks) {
  auto reg = Registries().Create("memory", {});
  ASSERT_TRUE(reg.ok());
  registry::Service svc{.name = "greeter",
                        .version = "1.0.0",
                        .nodes = {{.id = "greeter-1", .address = "127.0.0.1:8080"}}};
  ASSERT_TRUE((*reg)->Register(svc, {.ttl = std::chrono::seconds(90)}).ok());
  auto found = (*reg)->GetService("greeter");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->front().nodes.front().address, "127.0.0.1:8080");
}

TEST(MemoryRegistryTest, RejectsNamelessService) {
  auto reg = *NewMemoryRegistry();
  EXPECT_EQ(reg->Register(registry::Service{}).error().code, 400);
}

TEST(RegistriesTest, BuiltInsAreRegisteredAndUnknownNamesListThem) {
  auto names = Registries().Names();
  EXPECT_NE(std::find(names.begin(), names.end(), "memory"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "mdns"), names.end());
  auto mem = Registries().Create("memory", {});
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ((*mem)->String(), "memory");
  auto bad = Registries().Create("etcd-nope", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("mdns, memory"), std::string::npos) << bad.error();
}

TEST(RegistriesTest, MdnsRejectsAnUnknownInterfaceBeforeOpeningSockets) {
  auto r = NewMdnsRegistry({.addrs = {"no-such-if0"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("no-such-if0"), std::string::npos);
}

}  // namespace
}  // namespace micro
