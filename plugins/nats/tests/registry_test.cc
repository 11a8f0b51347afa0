// The NATS registry: the shared registry contract against a real nats-server, go-micro's
// subjects and JSON on the wire, quorum lookups, several processes, and server restarts.
#include <gtest/gtest.h>
#include <micro/testing/registry_contract.h>

#include <chrono>
#include <set>
#include <thread>

#include "conn.h"
#include "micro/nats/nats.h"
#include "nats_env.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using nats_test::Nats;

RegistryOptions RegistryWithServer(RegistryOptions o = {}) {
  o.addrs = {Nats().address()};
  return o;
}

registry::Service Svc(const std::string& name, const std::string& node, int port) {
  registry::Service s;
  s.name = name;
  s.version = "1.0.0";
  s.nodes.push_back({.id = node, .address = "127.0.0.1:" + std::to_string(port)});
  return s;
}

std::string UniqueName(std::string_view base) {
  static int n = 0;
  return fmt::format("{}-{}-{}", base, getpid(), n++);
}

class NatsRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = nats_test::SkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
  // A raw connection for looking at (or speaking) the wire format.
  std::shared_ptr<nats_detail::Conn> Raw() {
    nats_detail::ConnOptions o;
    o.urls = {Nats().url()};
    auto c = nats_detail::Conn::Connect(o, "test");
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
};

TEST_F(NatsRegistryTest, NamedInTheTableWhenLinked) {
  ASSERT_TRUE(Registries().Has("nats"));
  auto r = Registries().Create("nats", RegistryWithServer());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->String(), "nats");
}

TEST_F(NatsRegistryTest, TwoProcessesSeeEachOther) {
  auto a = nats::NewRegistry(RegistryWithServer());
  auto b = nats::NewRegistry(RegistryWithServer());
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string name = UniqueName("pair");
  auto w = (*b)->Watch({.service = name});
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE((*a)->Register(Svc(name, name + "-a", 1)).ok());
  ASSERT_TRUE((*b)->Register(Svc(name, name + "-b", 2)).ok());
  auto got = (*b)->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().nodes.size(), 2u);
  // Both creates arrive, in either order (NATS orders messages per connection only).
  std::set<std::string> created;
  for (int i = 0; i < 2; ++i) {
    auto ev = (*w)->Next(2s);
    ASSERT_TRUE(ev.ok()) << ev.error();
    EXPECT_EQ(ev->type, registry::EventType::kCreate);
    created.insert(ev->service.nodes.front().id);
  }
  EXPECT_EQ(created, (std::set<std::string>{name + "-a", name + "-b"}));
  ASSERT_TRUE((*a)->Deregister(Svc(name, name + "-a", 1)).ok());
  got = (*a)->GetService(name);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->front().nodes.size(), 1u);
  EXPECT_EQ(got->front().nodes.front().id, name + "-b");
  ASSERT_TRUE((*b)->Deregister(Svc(name, name + "-b", 2)).ok());
  EXPECT_TRUE(registry::IsNotFound((*a)->GetService(name).error()));
}

TEST_F(NatsRegistryTest, QuorumAnswersBeforeTheTimeout) {
  RegistryOptions o = RegistryWithServer();
  o.timeout = 3s;
  o.params["nats.quorum"] = "1";
  auto r = nats::NewRegistry(o);
  ASSERT_TRUE(r.ok());
  const std::string name = UniqueName("quorum");
  ASSERT_TRUE((*r)->Register(Svc(name, name + "-1", 1)).ok());
  const auto start = std::chrono::steady_clock::now();
  auto got = (*r)->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  ASSERT_TRUE((*r)->Deregister(Svc(name, name + "-1", 1)).ok());
}

// What a go-micro peer sees and sends: micro.nats.watch carries {"Action","Service"}, and a
// query on micro.nats.query is answered with one JSON Service per version.
TEST_F(NatsRegistryTest, GoMicroSubjectsAndJson) {
  auto raw = Raw();
  ASSERT_TRUE(raw);
  const std::string name = UniqueName("wire");
  std::mutex mu;
  std::vector<std::string> seen;
  std::condition_variable cv;
  auto collect = [&](nats_detail::Msg m) {
    if (m.data.find(name) == std::string::npos) return;  // another test's traffic
    std::lock_guard lock(mu);
    seen.push_back(m.data);
    cv.notify_all();
  };
  auto watch = raw->Subscribe("micro.nats.watch", "", collect);
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE(raw->Flush(2s).ok());
  auto r = nats::NewRegistry(RegistryWithServer());
  auto svc = Svc(name, name + "-1", 8080);
  ASSERT_TRUE((*r)->Register(svc).ok());
  auto wait_for = [&](std::size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 2s, [&] { return seen.size() >= n; });
  };
  ASSERT_TRUE(wait_for(1));
  EXPECT_EQ(seen[0], "{\"Action\":\"create\",\"Service\":" + registry::ToJson(svc) + "}");

  // A go-micro query, exactly as its registry sends it.
  const std::string inbox = nats_detail::Conn::NewInbox();
  auto answers = raw->Subscribe(inbox, "", collect);
  ASSERT_TRUE(answers.ok());
  ASSERT_TRUE(raw->Flush(2s).ok());
  ASSERT_TRUE(raw->Publish("micro.nats.query",
                           "{\"Action\":\"get\",\"Service\":{\"name\":\"" + name +
                               "\",\"version\":\"\",\"metadata\":null,\"endpoints\":null,"
                               "\"nodes\":null}}",
                           inbox)
                  .ok());
  ASSERT_TRUE(wait_for(2));
  EXPECT_EQ(seen[1], registry::ToJson(svc));

  ASSERT_TRUE((*r)->Deregister(svc).ok());
  ASSERT_TRUE(wait_for(3));
  EXPECT_EQ(seen[2], "{\"Action\":\"delete\",\"Service\":" + registry::ToJson(svc) + "}");
}

TEST_F(NatsRegistryTest, UnreachableServerIsA503) {
  RegistryOptions o;
  o.addrs = {"127.0.0.1:" + std::to_string(testing::FreePort())};
  auto r = nats::NewRegistry(o);
  ASSERT_TRUE(r.ok());
  auto got = r.value()->GetService("x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, 503) << got.error();
  EXPECT_EQ(r.value()->Register(Svc("x", "x-1", 1)).error().code, 503);
}

// nats-server stops and starts again on the same port: the registry reconnects by itself,
// answers queries again and its watchers see new events.
TEST_F(NatsRegistryTest, SurvivesServerRestart) {
  auto r = nats::NewRegistry(RegistryWithServer());
  ASSERT_TRUE(r.ok());
  const std::string name = UniqueName("restart");
  ASSERT_TRUE((*r)->Register(Svc(name, name + "-1", 1)).ok());
  auto w = (*r)->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*r)->GetService(name).ok());

  Nats().Stop();
  ASSERT_TRUE(Nats().Start()) << Nats().process().Log();

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  Result<std::vector<registry::Service>> got = registry::ErrNotFound();
  while (std::chrono::steady_clock::now() < deadline) {
    got = (*r)->GetService(name);
    if (got.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got->front().nodes.front().id, name + "-1");

  ASSERT_TRUE((*r)->Register(Svc(name, name + "-2", 2)).ok());
  bool saw = false;
  for (int i = 0; i < 20 && !saw; ++i) {
    auto ev = (*w)->Next(500ms);
    saw = ev.ok() && ev->service.nodes.front().id == name + "-2";
  }
  EXPECT_TRUE(saw);
}

}  // namespace

namespace testing {
INSTANTIATE_TEST_SUITE_P(Nats, RegistryContractTest,
                         ::testing::Values(RegistryContractParam{
                             .name = "nats",
                             .make = []() { return nats::NewRegistry(RegistryWithServer()); },
                             .propagation = std::chrono::seconds(3),
                             .supports_ttl = false,
                             .make_fast_ttl = {},
                             .skip_reason = nats_test::SkipReason}),
                         ContractName);
}  // namespace testing
}  // namespace micro
