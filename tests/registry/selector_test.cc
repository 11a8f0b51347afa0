#include <gtest/gtest.h>
#include <micro/selector.h>

#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "registry/counting_registry.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

registry::Service Svc(const std::string& version, std::vector<std::string> ids,
                      std::map<std::string, std::string> md = {}) {
  registry::Service s;
  s.name = "greeter";
  s.version = version;
  registry::Endpoint e;
  e.name = "Greeter.Hello" + version;
  s.endpoints.push_back(e);
  int port = 9000;
  for (auto& id : ids) {
    registry::Node n;
    n.id = id;
    n.address = fmt::format("127.0.0.1:{}", port++);
    n.metadata = md;
    s.nodes.push_back(n);
  }
  return s;
}

class SelectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reg_->Register(Svc("1", {"a", "b", "c"}, {{"zone", "x"}})).ok());
    ASSERT_TRUE(reg_->Register(Svc("2", {"d"}, {{"zone", "y"}})).ok());
  }

  std::shared_ptr<Selector> Make(SelectorOptions o = {}) {
    o.registry = reg_;
    auto s = NewSelector(std::move(o));
    EXPECT_TRUE(s.ok());
    return *s;
  }

  static std::map<std::string, int> Count(const selector::Next& next, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      auto node = next();
      EXPECT_TRUE(node.ok());
      if (node.ok()) seen[node->id]++;
    }
    return seen;
  }

  std::shared_ptr<Registry> reg_ = *NewMemoryRegistry();
};

TEST_F(SelectorTest, RandomSpreadsEvenlyOverAllVersions) {
  auto sel = Make();
  auto next = sel->Select("greeter");
  ASSERT_TRUE(next.ok());
  auto seen = Count(*next, 8000);
  ASSERT_EQ(seen.size(), 4u);
  for (auto& [id, n] : seen) {
    EXPECT_GT(n, 1600) << id;  // expected 2000 each; +-20% is > 10 standard deviations
    EXPECT_LT(n, 2400) << id;
  }
}

TEST_F(SelectorTest, RoundRobinVisitsEveryNodeInTurn) {
  auto sel = Make({.strategy = selector::RoundRobin()});
  auto next = sel->Select("greeter");
  ASSERT_TRUE(next.ok());
  std::vector<std::string> order;
  for (int i = 0; i < 8; ++i) order.push_back((*next)()->id);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(order[i], order[i + 4]);
  std::set<std::string> distinct(order.begin(), order.begin() + 4);
  EXPECT_EQ(distinct.size(), 4u);
}

TEST_F(SelectorTest, StrategyCanBeChosenPerSelect) {
  auto sel = Make();
  auto next = sel->Select("greeter", {.strategy = selector::RoundRobin()});
  ASSERT_TRUE(next.ok());
  auto seen = Count(*next, 400);
  for (auto& [id, n] : seen) EXPECT_EQ(n, 100) << id;
}

TEST_F(SelectorTest, FiltersByVersionLabelAndEndpoint) {
  auto sel = Make();
  auto v2 = sel->Select("greeter", {.filters = {selector::FilterVersion("2")}});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(Count(*v2, 20), (std::map<std::string, int>{{"d", 20}}));

  auto zone_x = sel->Select("greeter", {.filters = {selector::FilterLabel("zone", "x")}});
  ASSERT_TRUE(zone_x.ok());
  auto seen = Count(*zone_x, 300);
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.count("d"), 0u);

  auto ep = sel->Select("greeter", {.filters = {selector::FilterEndpoint("Greeter.Hello2")}});
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ((*ep)()->id, "d");

  auto both = sel->Select(
      "greeter", {.filters = {selector::FilterVersion("1"), selector::FilterLabel("zone", "y")}});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().code, 500);
  EXPECT_EQ(both.error().detail, "service greeter: none available");
}

TEST_F(SelectorTest, UnknownServiceIsNotFound) {
  auto sel = Make();
  auto next = sel->Select("nobody");
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, 404);
  EXPECT_EQ(next.error().detail, "service nobody: not found");
}

TEST_F(SelectorTest, MarkedNodeLeavesRotationUntilItsBackoffEnds) {
  auto sel = Make({.mark_backoff = 300ms});
  auto next = sel->Select("greeter");
  ASSERT_TRUE(next.ok());
  registry::Node a;
  a.id = "a";
  sel->Mark("greeter", a, errors::InternalServerError("x", "connection refused"));
  auto seen = Count(*next, 2000);
  EXPECT_EQ(seen.count("a"), 0u);
  EXPECT_EQ(seen.size(), 3u);
  std::this_thread::sleep_for(350ms);
  EXPECT_GT(Count(*next, 2000)["a"], 0);
}

TEST_F(SelectorTest, MarkOkAndResetRestoreNodes) {
  auto sel = Make({.mark_backoff = 1h});
  auto next = sel->Select("greeter", {.strategy = selector::RoundRobin()});
  ASSERT_TRUE(next.ok());
  registry::Node a, b;
  a.id = "a";
  b.id = "b";
  sel->Mark("greeter", a, errors::InternalServerError("x", "down"));
  sel->Mark("greeter", b, errors::InternalServerError("x", "down"));
  auto seen = Count(*next, 100);
  EXPECT_EQ(seen.count("a") + seen.count("b"), 0u);
  sel->Mark("greeter", a, Status());  // a call to a succeeded
  EXPECT_GT(Count(*next, 100)["a"], 0);
  EXPECT_EQ(Count(*next, 100).count("b"), 0u);
  sel->Reset("greeter");
  EXPECT_GT(Count(*next, 100)["b"], 0);
}

// Next hands out the snapshot's own node, as go-micro's *registry.Node: no copy per pick, and
// the node outlives a registry change for as long as the Next does.
TEST_F(SelectorTest, NextPointsIntoItsSnapshotWhichOutlivesRegistryChanges) {
  auto sel = Make();
  auto next = sel->Select("greeter", {.filters = {selector::FilterVersion("2")}});
  ASSERT_TRUE(next.ok());
  auto first = (*next)();
  auto second = (*next)();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);  // the same node object, not two copies
  ASSERT_TRUE(reg_->Deregister(Svc("2", {"d"})).ok());
  ASSERT_TRUE(reg_->Register(Svc("2", {"e"}, {{"zone", "z"}})).ok());
  // The old Next still holds the old snapshot: its node is intact (ASan checks the reads).
  EXPECT_EQ((*first)->id, "d");
  EXPECT_EQ((*first)->metadata.at("zone"), "y");
  EXPECT_EQ((*next)()->id, "d");
}

TEST_F(SelectorTest, WhenEveryNodeIsMarkedItFailsOpen) {
  auto sel = Make({.mark_backoff = 1h});
  auto next = sel->Select("greeter", {.filters = {selector::FilterVersion("2")}});
  ASSERT_TRUE(next.ok());
  registry::Node d;
  d.id = "d";
  sel->Mark("greeter", d, errors::InternalServerError("x", "down"));
  auto node = (*next)();
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->id, "d");
}

TEST_F(SelectorTest, RepeatedFailuresDoubleTheBackoff) {
  auto sel = Make({.mark_backoff = 100ms, .max_mark_backoff = 10s});
  auto next = sel->Select("greeter", {.filters = {selector::FilterVersion("1")}});
  ASSERT_TRUE(next.ok());
  registry::Node a;
  a.id = "a";
  for (int i = 0; i < 3; ++i) sel->Mark("greeter", a, errors::InternalServerError("x", "down"));
  // Third consecutive failure: 400 ms. After 150 ms it must still be out.
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(Count(*next, 500).count("a"), 0u);
}

TEST_F(SelectorTest, NextIsSafeFromManyThreadsWhileMarking) {
  auto sel = Make({.mark_backoff = 1ms});
  auto next = sel->Select("greeter");
  ASSERT_TRUE(next.ok());
  std::atomic<bool> stop{false};
  std::thread marker([&] {
    registry::Node a;
    a.id = "a";
    while (!stop) {
      sel->Mark("greeter", a, errors::InternalServerError("x", "down"));
      sel->Reset("greeter");
    }
  });
  std::vector<std::thread> pickers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 3; ++t) {
    pickers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) ok += (*next)().ok();
    });
  }
  for (auto& p : pickers) p.join();
  stop = true;
  marker.join();
  EXPECT_EQ(ok, 15000);
}

TEST_F(SelectorTest, TrySelectAnswersOnlyWhatTheCacheHolds) {
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  ASSERT_TRUE(counting->Register(Svc("1", {"a"})).ok());
  auto sel = *NewSelector({.registry = counting});
  EXPECT_FALSE(sel->TrySelect("greeter", {}).has_value());  // a miss: nothing asked
  EXPECT_EQ(counting->lookups, 0);
  ASSERT_TRUE(sel->Select("greeter").ok());
  auto hit = sel->TrySelect("greeter", {.filters = {selector::FilterVersion("1")}});
  ASSERT_TRUE(hit.has_value());
  ASSERT_TRUE(hit->ok()) << hit->error();
  EXPECT_EQ((**hit)()->id, "a");
  auto none = sel->TrySelect("greeter", {.filters = {selector::FilterVersion("9")}});
  ASSERT_TRUE(none.has_value());
  ASSERT_FALSE(none->ok());
  EXPECT_EQ(none->error().code, 500);
  EXPECT_EQ(counting->lookups, 1);
}

// The slow registry of the issue: 32 concurrent misses, and exactly one GetService.
TEST_F(SelectorTest, ConcurrentAsyncMissesShareOneLookup) {
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  ASSERT_TRUE(counting->Register(Svc("1", {"a", "b"})).ok());
  auto sel = *NewSelector({.registry = counting});
  counting->delay = 200ms;
  counting->CloseGate();
  constexpr int kCallers = 32;
  std::mutex mu;
  std::vector<Result<selector::Next>> answers;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      sel->SelectAsync("greeter", {}, [&](Result<selector::Next> next) {
        std::lock_guard lock(mu);
        answers.push_back(std::move(next));
      });
    });
  }
  for (auto& t : callers) t.join();  // none waited for the lookup
  EXPECT_EQ(counting->lookups_done, 0);
  EXPECT_FALSE(sel->TrySelect("greeter", {}).has_value());
  counting->OpenGate();
  ASSERT_TRUE(testing_util::WaitFor(
      [&] {
        std::lock_guard lock(mu);
        return answers.size() == size_t(kCallers);
      },
      5s));
  EXPECT_EQ(counting->lookups, 1);
  std::lock_guard lock(mu);
  for (auto& next : answers) {
    ASSERT_TRUE(next.ok()) << next.error();
    EXPECT_TRUE((*next)().ok());
  }
}

TEST_F(SelectorTest, AsyncMissOfAnUnknownServiceIsNotFound) {
  auto sel = Make();
  std::promise<Result<selector::Next>> answer;
  sel->SelectAsync("nobody", {}, [&](Result<selector::Next> next) { answer.set_value(next); });
  auto next = answer.get_future().get();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, 404);
  EXPECT_EQ(next.error().detail, "service nobody: not found");
}

// A filter with a key runs once per snapshot; one without runs on every Select.
TEST_F(SelectorTest, KeyedFiltersRunOncePerSnapshot) {
  auto cache = *NewCache(reg_, {.ttl = 50ms, .min_retry_interval = 0ms, .watch = false});
  auto sel = *NewSelector({.registry = cache});
  std::atomic<int> keyed{0}, plain{0};
  selector::Filter only_v2("test:v2", [&](std::vector<registry::Service> services) {
    ++keyed;
    return selector::FilterVersion("2")(std::move(services));
  });
  selector::Filter pass_all = [&](std::vector<registry::Service> services) {
    ++plain;
    return services;
  };
  for (int i = 0; i < 100; ++i) {
    auto next = sel->Select("greeter", {.filters = {only_v2}});
    ASSERT_TRUE(next.ok()) << next.error();
    EXPECT_EQ((*next)()->id, "d");
    ASSERT_TRUE(sel->Select("greeter", {.filters = {pass_all}}).ok());
  }
  EXPECT_EQ(keyed, 1);
  EXPECT_EQ(plain, 100);
  // A new snapshot (the TTL ran out and the cache looked the service up again): once more.
  std::this_thread::sleep_for(80ms);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sel->Select("greeter", {.filters = {only_v2}}).ok());
  EXPECT_EQ(keyed, 2);
}

TEST(SelectorsTest, SelectorsGivenOneCacheShareIt) {
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  ASSERT_TRUE(counting->Register(Svc("1", {"a"})).ok());
  auto cache = *NewCache(counting, {.watch = false});
  auto one = *NewSelector({.registry = cache});
  auto two = *Selectors().Create("roundrobin", {.registry = cache});
  ASSERT_TRUE(one->Select("greeter").ok());
  ASSERT_TRUE(two->Select("greeter").ok());
  EXPECT_NE(cache->Peek("greeter"), nullptr);
  EXPECT_EQ(counting->lookups, 1);
}

TEST(SelectorsTest, WithoutTheCacheEverySelectAsksTheRegistry) {
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  ASSERT_TRUE(counting->Register(Svc("1", {"a"})).ok());
  auto sel = *NewSelector({.registry = counting, .use_cache = false});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sel->Select("greeter").ok());
  EXPECT_FALSE(sel->TrySelect("greeter", {}).has_value());
  EXPECT_EQ(counting->lookups, 3);
  EXPECT_EQ(counting->watches, 0);
}

TEST(SelectorsTest, NamedFactoriesAndMissingRegistry) {
  auto reg = *NewMemoryRegistry();
  for (const char* name : {"registry", "random", "roundrobin"}) {
    auto s = Selectors().Create(name, {.registry = reg});
    ASSERT_TRUE(s.ok()) << name;
    EXPECT_EQ((*s)->String(), "registry");
  }
  auto none = NewSelector({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, 400);
}

TEST(SelectorsTest, RoundRobinFromTheTable) {
  auto reg = *NewMemoryRegistry();
  ASSERT_TRUE(reg->Register(Svc("1", {"a", "b"})).ok());
  auto s = Selectors().Create("roundrobin", {.registry = reg});
  ASSERT_TRUE(s.ok());
  auto next = (*s)->Select("greeter");
  ASSERT_TRUE(next.ok());
  auto first = (*next)()->id, second = (*next)()->id, third = (*next)()->id;
  EXPECT_NE(first, second);
  EXPECT_EQ(first, third);
}

}  // namespace
}  // namespace micro
