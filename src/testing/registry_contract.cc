// The shared registry contract tests (see registry_contract.h).
#include <micro/testing/registry_contract.h>

namespace micro::testing {

TEST_P(RegistryContractTest, GetUnknownServiceIsNotFound) {
  auto r = reg_->GetService(Unique("nobody"));
  if (GetParam().not_found_is_empty) {
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_TRUE(r->empty());
    return;
  }
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(registry::IsNotFound(r.error())) << r.error();
  EXPECT_EQ(r.error().code, 404);
}

TEST_P(RegistryContractTest, RegisterThenGetServiceReturnsNodesEndpointsAndMetadata) {
  const std::string name = Unique("greeter");
  auto svc = MakeService(name, "1.0.0", {{name + "-a", 18080}, {name + "-b", 18081}});
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto r = Eventually(name, [](const auto& res) { return NodeCount(res) == 2; });
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 1u);
  const registry::Service& got = r->front();
  EXPECT_EQ(got.name, name);
  EXPECT_EQ(got.version, "1.0.0");
  EXPECT_EQ(got.endpoints, svc.endpoints);
  auto nodes = got.nodes;
  std::sort(nodes.begin(), nodes.end(), [](auto& a, auto& b) { return a.id < b.id; });
  EXPECT_EQ(nodes, svc.nodes);
  ASSERT_TRUE(reg_->Deregister(svc).ok());
}

TEST_P(RegistryContractTest, OneServicePerVersion) {
  const std::string name = Unique("versions");
  auto v1 = MakeService(name, "1", {{name + "-1", 18090}});
  auto v2 = MakeService(name, "2", {{name + "-2", 18091}});
  ASSERT_TRUE(reg_->Register(v1).ok());
  ASSERT_TRUE(reg_->Register(v2).ok());
  auto r = Eventually(name, [](const auto& res) { return res.ok() && res->size() == 2; });
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2u);
  std::vector<std::string> versions{(*r)[0].version, (*r)[1].version};
  std::sort(versions.begin(), versions.end());
  EXPECT_EQ(versions, (std::vector<std::string>{"1", "2"}));
  for (const auto& s : *r) EXPECT_EQ(s.nodes.size(), 1u);
  ASSERT_TRUE(reg_->Deregister(v1).ok());
  ASSERT_TRUE(reg_->Deregister(v2).ok());
}

TEST_P(RegistryContractTest, ReRegisterDoesNotDuplicateNodes) {
  const std::string name = Unique("again");
  auto svc = MakeService(name, "1", {{name + "-a", 18100}});
  ASSERT_TRUE(reg_->Register(svc).ok());
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto r = Eventually(name, [](const auto& res) { return NodeCount(res) >= 1; });
  EXPECT_EQ(NodeCount(r), 1u);
  ASSERT_TRUE(reg_->Deregister(svc).ok());
}

TEST_P(RegistryContractTest, DeregisterRemovesNodesThenTheService) {
  const std::string name = Unique("leaving");
  auto svc = MakeService(name, "1", {{name + "-a", 18110}, {name + "-b", 18111}});
  ASSERT_TRUE(reg_->Register(svc).ok());
  ASSERT_EQ(NodeCount(Eventually(name, [](const auto& res) { return NodeCount(res) == 2; })), 2u);

  auto one = svc;
  one.nodes.resize(1);
  ASSERT_TRUE(reg_->Deregister(one).ok());
  auto r = Eventually(name, [](const auto& res) { return NodeCount(res) == 1; });
  ASSERT_EQ(NodeCount(r), 1u);
  EXPECT_EQ(r->front().nodes.front().id, name + "-b");

  auto other = svc;
  other.nodes.erase(other.nodes.begin());
  ASSERT_TRUE(reg_->Deregister(other).ok());
  r = Eventually(name, [](const auto& res) { return Gone(res); });
  EXPECT_TRUE(Gone(r)) << (r.ok() ? std::to_string(r->size()) + " services" : r.error().ToJson());
  if (!GetParam().not_found_is_empty) {
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(registry::IsNotFound(r.error())) << r.error();
  }
}

TEST_P(RegistryContractTest, ListServicesIncludesRegisteredNames) {
  const std::string name = Unique("listed");
  auto svc = MakeService(name, "1", {{name + "-a", 18120}});
  ASSERT_TRUE(reg_->Register(svc).ok());
  const auto deadline = Clock::now() + GetParam().propagation;
  bool found = false;
  while (!found && Clock::now() < deadline) {
    auto list = reg_->ListServices();
    ASSERT_TRUE(list.ok()) << list.error();
    found = std::any_of(list->begin(), list->end(), [&](auto& s) { return s.name == name; });
  }
  EXPECT_TRUE(found);
  ASSERT_TRUE(reg_->Deregister(svc).ok());
}

TEST_P(RegistryContractTest, WatchSeesRegisterAndDeregister) {
  const std::string name = Unique("watched");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok()) << w.error();
  auto svc = MakeService(name, "1", {{name + "-a", 18130}});
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto up = NextFor(**w, name, registry::EventType::kCreate);
  ASSERT_TRUE(up.ok()) << up.error();
  EXPECT_TRUE(up->type == registry::EventType::kCreate || up->type == registry::EventType::kUpdate);
  ASSERT_FALSE(up->service.nodes.empty());
  EXPECT_EQ(up->service.nodes.front().id, name + "-a");
  EXPECT_EQ(up->service.nodes.front().address, "127.0.0.1:18130");

  ASSERT_TRUE(reg_->Deregister(svc).ok());
  auto down = NextFor(**w, name, registry::EventType::kDelete);
  ASSERT_TRUE(down.ok()) << down.error();
  EXPECT_EQ(down->type, registry::EventType::kDelete);
  ASSERT_FALSE(down->service.nodes.empty());
  EXPECT_EQ(down->service.nodes.front().id, name + "-a");
}

TEST_P(RegistryContractTest, WatchForOneServiceIgnoresOthers) {
  const std::string mine = Unique("mine");
  const std::string other = Unique("other");
  auto w = reg_->Watch({.service = mine});
  ASSERT_TRUE(w.ok());
  auto o = MakeService(other, "1", {{other + "-a", 18140}});
  auto m = MakeService(mine, "1", {{mine + "-a", 18141}});
  ASSERT_TRUE(reg_->Register(o).ok());
  ASSERT_TRUE(reg_->Register(m).ok());
  auto ev = (*w)->Next(GetParam().propagation);
  ASSERT_TRUE(ev.ok()) << ev.error();
  EXPECT_EQ(ev->service.name, mine);
  ASSERT_TRUE(reg_->Deregister(o).ok());
  ASSERT_TRUE(reg_->Deregister(m).ok());
}

TEST_P(RegistryContractTest, StoppedWatcherReturnsWatcherStopped) {
  auto w = reg_->Watch();
  ASSERT_TRUE(w.ok());
  (*w)->Stop();
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(registry::IsWatcherStopped(ev.error())) << ev.error();
}

TEST_P(RegistryContractTest, WatcherOutlivesRegistry) {
  auto w = reg_->Watch();
  ASSERT_TRUE(w.ok());
  reg_.reset();
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_FALSE(ev.ok());
  EXPECT_TRUE(ev.error().code == 408 || registry::IsWatcherStopped(ev.error())) << ev.error();
}

TEST_P(RegistryContractTest, ConcurrentRegisterAndLookup) {
  const std::string name = Unique("busy");
  std::vector<std::thread> threads{};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto svc = MakeService(name, "1", {{fmt::format("{}-{}", name, t), 18150 + t}});
      EXPECT_TRUE(reg_->Register(svc).ok());
      (void)reg_->GetService(name);
    });
  }
  for (auto& t : threads) t.join();
  auto r = Eventually(name, [](const auto& res) { return NodeCount(res) == 4; });
  EXPECT_EQ(NodeCount(r), 4u);
  for (int t = 0; t < 4; ++t) {
    ASSERT_TRUE(
        reg_->Deregister(MakeService(name, "1", {{fmt::format("{}-{}", name, t), 18150 + t}}))
            .ok());
  }
}

TEST_P(RegistryContractTest, TtlExpiresNodesThatAreNotRefreshed) {
  if (!GetParam().supports_ttl) GTEST_SKIP() << GetParam().name << " has no register TTL";
  auto fast = GetParam().make_fast_ttl();
  ASSERT_TRUE(fast.ok());
  reg_ = *fast;
  const std::string name = Unique("ttl");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg_->Register(MakeService(name, "1", {{name + "-a", 18160}}),
                             {.ttl = std::chrono::milliseconds(300)})
                  .ok());
  ASSERT_EQ(NodeCount(reg_->GetService(name)), 1u);
  auto gone = NextFor(**w, name, registry::EventType::kDelete);
  ASSERT_TRUE(gone.ok()) << gone.error();
  auto r = Eventually(name, [](const auto& res) { return !res.ok(); });
  EXPECT_FALSE(r.ok());
}

// A test binary may instantiate only some of the suites of micro::contract_tests.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RegistryContractTest);

}  // namespace micro::testing

// Pulls this file's tests out of the static library into every test binary that links it
// (the library's link interface names the symbol: see src/testing/CMakeLists.txt).
extern "C" {
extern const int micro_contract_anchor_registry;
const int micro_contract_anchor_registry = 1;
}
