// Consul specifics against the FAKE agent (fake_consul.h): what the plugin sends (go-micro's
// registration, TTL check, deregister-critical-after), passing the TTL check on re-register,
// re-registering when the agent lost the service, health-filtered lookups, legacy tags,
// blocking-query watches, agent failover.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "fake_consul.h"
#include "micro/consul/consul.h"
#include "support/server_process.h"
#include "tags.h"

namespace micro::testing {
namespace {

using namespace std::chrono_literals;

std::string Unique(std::string_view base) {
  static std::atomic<int> n{0};
  return fmt::format("{}-{}-{}", base, getpid(), n++);
}

registry::Service MakeService(const std::string& name, const std::string& node, int port) {
  registry::Service s{.name = name, .version = "1.0.0"};
  s.endpoints.push_back({.name = "Greeter.Hello",
                         .request = registry::Value{"Request", "Request", {}},
                         .response = registry::Value{"Response", "Response", {}}});
  s.nodes.push_back({.id = node,
                     .address = fmt::format("127.0.0.1:{}", port),
                     .metadata = {{"protocol", "mucp"}}});
  return s;
}

Result<registry::Event> NextEvent(registry::Watcher& w, const std::string& name,
                                  registry::EventType type, Duration limit = 3s) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    auto ev = w.Next(100ms);
    if (!ev) {
      if (ev.error().code == 408) continue;
      return ev;
    }
    if (ev->service.name == name && ev->type == type) return ev;
  }
  return errors::Timeout("test", "no {} event for {}", registry::ToString(type), name);
}

class ConsulFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = consul::NewRegistry({.addrs = {fake_.address()}, .params = {{"consul.wait", "2s"}}});
    ASSERT_TRUE(r.ok()) << r.error();
    reg_ = *r;
  }
  FakeConsul fake_;
  std::shared_ptr<Registry> reg_;
};

TEST_F(ConsulFakeTest, NameIsRegisteredWhenLinked) {
  EXPECT_TRUE(Registries().Has("consul"));
  auto r = Registries().Create("consul", {.addrs = {fake_.address()}});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->String(), "consul");
}

TEST_F(ConsulFakeTest, RegistrationIsGoMicros) {
  const std::string name = Unique("reg");
  auto svc = MakeService(name, name + "-1", 9100);
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 30s}).ok());
  auto s = fake_.Get(name + "-1");
  ASSERT_TRUE(s.has_value());
  const auto& j = s->registration;
  EXPECT_EQ(j["ID"], name + "-1");
  EXPECT_EQ(j["Name"], name);
  EXPECT_EQ(j["Address"], "127.0.0.1");
  EXPECT_EQ(j["Port"], 9100);
  EXPECT_EQ(j["Meta"]["protocol"], "mucp");
  EXPECT_EQ(j["Check"]["TTL"], "30s");
  EXPECT_EQ(j["Check"]["DeregisterCriticalServiceAfter"], "1m5s");  // max(ttl, 1m) + 5s
  std::vector<std::string> tags = j["Tags"].get<std::vector<std::string>>();
  auto decoded = consul_detail::DecodeTags(tags);
  EXPECT_EQ(decoded.version, "1.0.0");
  EXPECT_EQ(decoded.metadata, svc.nodes[0].metadata);
  EXPECT_EQ(decoded.endpoints, svc.endpoints);
  EXPECT_EQ(s->status, "passing");  // passed right after registering
  EXPECT_EQ(fake_.count("pass"), 1);

  ASSERT_TRUE(reg_->Register(svc, {.ttl = 90s}).ok());  // another TTL: registered again
  EXPECT_EQ(fake_.Get(name + "-1")->registration["Check"]["DeregisterCriticalServiceAfter"],
            "1m35s");
}

TEST_F(ConsulFakeTest, ReRegisterOnlyPassesTheTtlCheck) {
  const std::string name = Unique("pass");
  auto svc = MakeService(name, name + "-1", 9110);
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 1s}).ok());
  for (int i = 0; i < 6; ++i) {  // 1.8 s: past the TTL, kept passing
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(reg_->Register(svc, {.ttl = 1s}).ok());
  }
  EXPECT_EQ(fake_.count("register"), 1);
  EXPECT_EQ(fake_.count("pass"), 7);
  EXPECT_EQ(fake_.Get(name + "-1")->status, "passing");
  EXPECT_TRUE(reg_->GetService(name).ok());
}

TEST_F(ConsulFakeTest, LostServiceIsRegisteredAgain) {
  const std::string name = Unique("lost");
  auto svc = MakeService(name, name + "-1", 9120);
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 10s}).ok());
  fake_.Forget(name + "-1");  // e.g. the agent restarted
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 10s}).ok());
  EXPECT_TRUE(fake_.Has(name + "-1"));
  EXPECT_EQ(fake_.count("register"), 2);
  EXPECT_TRUE(reg_->GetService(name).ok());
}

TEST_F(ConsulFakeTest, CriticalNodesAreNotReturned) {
  const std::string name = Unique("health");
  auto svc = MakeService(name, name + "-ok", 9130);
  ASSERT_TRUE(reg_->Register(svc).ok());
  fake_.Put(name + "-bad",
            {{"ID", name + "-bad"},
             {"Name", name},
             {"Address", "127.0.0.1"},
             {"Port", 9131},
             {"Check", {{"TTL", "10s"}}}},
            "critical");
  auto r = reg_->GetService(name);
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 1u);
  ASSERT_EQ((*r)[0].nodes.size(), 1u);
  EXPECT_EQ((*r)[0].nodes[0].id, name + "-ok");
}

TEST_F(ConsulFakeTest, ReadsLegacyPlainTagsAndMeta) {
  const std::string name = Unique("legacy");
  fake_.Put(name + "-1", {{"ID", name + "-1"},
                          {"Name", name},
                          {"Address", "10.1.2.3"},
                          {"Port", 8080},
                          {"Tags", {"v=0.9", "e={\"name\":\"Old.Call\"}"}},
                          {"Meta", {{"from", "meta"}}}});
  auto r = reg_->GetService(name);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)[0].version, "0.9");
  ASSERT_EQ((*r)[0].endpoints.size(), 1u);
  EXPECT_EQ((*r)[0].endpoints[0].name, "Old.Call");
  EXPECT_EQ((*r)[0].nodes[0].address, "10.1.2.3:8080");
  EXPECT_EQ((*r)[0].nodes[0].metadata.at("from"), "meta");  // no t- tags: Meta
}

TEST_F(ConsulFakeTest, TtlExpiryDropsTheNodeAndTheReaperDeregisters) {
  const std::string name = Unique("expire");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg_->Register(MakeService(name, name + "-1", 9140), {.ttl = 200ms}).ok());
  ASSERT_TRUE(NextEvent(**w, name, registry::EventType::kCreate).ok());
  auto gone = NextEvent(**w, name, registry::EventType::kDelete);
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_EQ(gone->service.nodes.at(0).id, name + "-1");
  EXPECT_TRUE(registry::IsNotFound(reg_->GetService(name).error()));
  EXPECT_TRUE(fake_.Has(name + "-1"));  // critical, not yet removed (1m5s)
}

TEST_F(ConsulFakeTest, WatchUsesBlockingQueries) {
  const std::string name = Unique("blocking");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  std::this_thread::sleep_for(200ms);
  const auto start = Clock::now();
  auto svc = MakeService(name, name + "-1", 9150);
  ASSERT_TRUE(reg_->Register(svc).ok());
  ASSERT_TRUE(NextEvent(**w, name, registry::EventType::kCreate).ok());
  EXPECT_LT(Clock::now() - start, 1s);  // woken by the change, not by polling after `wait`
  svc.nodes[0].metadata["weight"] = "3";
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto up = NextEvent(**w, name, registry::EventType::kUpdate);
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_EQ(up->service.nodes[0].metadata.at("weight"), "3");
  bool saw_blocking = false;
  for (const auto& t : fake_.blocking_reads()) {
    if (t.find("/v1/health/service/" + name) == 0 && t.find("index=") != std::string::npos &&
        t.find("wait=2s") != std::string::npos && t.find("passing") != std::string::npos) {
      saw_blocking = true;
    }
  }
  EXPECT_TRUE(saw_blocking);
}

TEST_F(ConsulFakeTest, WatchAllFollowsTheCatalog) {
  auto w = reg_->Watch();
  ASSERT_TRUE(w.ok());
  const std::string a = Unique("cat-a");
  const std::string b = Unique("cat-b");
  ASSERT_TRUE(reg_->Register(MakeService(a, a + "-1", 9160)).ok());
  ASSERT_TRUE(reg_->Register(MakeService(b, b + "-1", 9161)).ok());
  // One catalog change may carry both creates, in either order.
  std::set<std::string> created;
  for (auto until = Clock::now() + 3s; created.size() < 2 && Clock::now() < until;) {
    auto ev = (*w)->Next(100ms);
    if (ev && ev->type == registry::EventType::kCreate &&
        (ev->service.name == a || ev->service.name == b)) {
      created.insert(ev->service.name);
    }
  }
  EXPECT_EQ(created, (std::set<std::string>{a, b}));
  ASSERT_TRUE(reg_->Deregister(MakeService(a, a + "-1", 9160)).ok());
  EXPECT_TRUE(NextEvent(**w, a, registry::EventType::kDelete).ok());
}

TEST_F(ConsulFakeTest, ListServicesFromTheCatalogWithVersions) {
  const std::string name = Unique("list");
  ASSERT_TRUE(reg_->Register(MakeService(name, name + "-1", 9170)).ok());
  auto list = reg_->ListServices();
  ASSERT_TRUE(list.ok()) << list.error();
  bool found = false;
  for (const auto& s : *list) found |= (s.name == name && s.version == "1.0.0");
  EXPECT_TRUE(found);
}

TEST_F(ConsulFakeTest, FailsOverToTheNextAgent) {
  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  auto r = consul::NewRegistry({.addrs = {dead, fake_.address()}});
  ASSERT_TRUE(r.ok());
  const std::string name = Unique("failover");
  ASSERT_TRUE((*r)->Register(MakeService(name, name + "-1", 9180)).ok());
  EXPECT_TRUE((*r)->GetService(name).ok());
  auto none = consul::NewRegistry({.addrs = {dead}, .params = {{"consul.timeout_ms", "500"}}});
  ASSERT_TRUE(none.ok());
  auto err = (*none)->GetService(name);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code, 500);
}

TEST_F(ConsulFakeTest, BadOptionsAreErrors) {
  EXPECT_FALSE(consul::NewRegistry({.addrs = {","}}).ok());
  EXPECT_FALSE(consul::NewRegistry({.params = {{"consul.timeout_ms", "-1"}}}).ok());
  EXPECT_FALSE(consul::NewRegistry({.params = {{"consul.wait", "soon"}}}).ok());
  registry::Service no_node = MakeService("x", "x-1", 1);
  no_node.nodes.clear();
  EXPECT_FALSE(reg_->Register(no_node).ok());
  registry::Service bad_address = MakeService("x", "x-1", 1);
  bad_address.nodes[0].address = "nope";
  EXPECT_FALSE(reg_->Register(bad_address).ok());
}

}  // namespace
}  // namespace micro::testing
