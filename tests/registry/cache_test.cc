// The registry cache (go-micro's registry/cache semantics).
#include <gtest/gtest.h>
#include <micro/registry.h>

#include <atomic>
#include <thread>

namespace micro {
namespace {

using namespace std::chrono_literals;

// A memory registry whose lookups are counted, can be slowed down and made to fail.
class FakeRegistry : public Registry {
 public:
  using Registry::Register;
  using Registry::Watch;
  Status Register(const registry::Service& s, const RegisterOptions& o) override {
    return inner_->Register(s, o);
  }
  Status Deregister(const registry::Service& s) override { return inner_->Deregister(s); }
  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    ++lookups;
    std::this_thread::sleep_for(delay.load());
    if (failing) return errors::InternalServerError("fake", "registry down");
    return inner_->GetService(name);
  }
  Result<std::vector<registry::Service>> ListServices() override { return inner_->ListServices(); }
  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& o) override {
    return inner_->Watch(o);
  }
  std::string String() const override { return "fake"; }

  std::atomic<int> lookups{0};
  std::atomic<bool> failing{false};
  std::atomic<Duration> delay{Duration::zero()};

 private:
  std::shared_ptr<Registry> inner_ = NewMemoryRegistry();
};

registry::Service Svc(const std::string& id, int port) {
  registry::Service s;
  s.name = "svc";
  s.version = "1";
  registry::Node n;
  n.id = id;
  n.address = fmt::format("127.0.0.1:{}", port);
  s.nodes.push_back(n);
  return s;
}

size_t Nodes(const Result<std::vector<registry::Service>>& r) {
  return r.ok() && !r->empty() ? r->front().nodes.size() : 0;
}

template <class F>
bool WaitFor(F&& pred, Duration limit = 2s) {
  const auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(RegistryCacheTest, AnswersFromMemoryWhileFresh) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake, {.watch = false});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  EXPECT_EQ(fake->lookups, 1);
  EXPECT_EQ(cache->String(), "cache");
}

TEST(RegistryCacheTest, RefetchesAfterTtl) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake, {.ttl = 30ms, .min_retry_interval = 0ms, .watch = false});
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  ASSERT_TRUE(fake->Register(Svc("b", 2)).ok());
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);  // still fresh
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Nodes(cache->GetService("svc")), 2u);
  EXPECT_EQ(fake->lookups, 2);
}

TEST(RegistryCacheTest, ServesStaleDataWhenTheRegistryFails) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake, {.ttl = 10ms, .min_retry_interval = 0ms, .watch = false});
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  fake->failing = true;
  std::this_thread::sleep_for(20ms);
  auto r = cache->GetService("svc");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(Nodes(r), 1u);
  EXPECT_EQ(fake->lookups, 2);
  // Nothing cached and the registry down: the error comes through.
  auto other = cache->GetService("other");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().detail, "registry down");
}

TEST(RegistryCacheTest, WaitsTheMinimumRetryIntervalBeforeAskingAgain) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake, {.ttl = 10ms, .min_retry_interval = 1h, .watch = false});
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  std::this_thread::sleep_for(20ms);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  EXPECT_EQ(fake->lookups, 1);
}

TEST(RegistryCacheTest, OneLookupInFlightPerService) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  fake->delay = 100ms;
  auto cache = NewCache(fake, {.watch = false});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += Nodes(cache->GetService("svc")) == 1u; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(fake->lookups, 1);
}

TEST(RegistryCacheTest, NotFoundIsNotCached) {
  auto fake = std::make_shared<FakeRegistry>();
  auto cache = NewCache(fake, {.watch = false});
  auto r = cache->GetService("svc");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(registry::IsNotFound(r.error()));
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
}

TEST(RegistryCacheTest, WatchEventsUpdateCachedServices) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake);  // TTL 1 min: only the watch can change what it returns
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  // Let the watch start (it begins after 0-100 ms of jitter).
  std::this_thread::sleep_for(150ms);
  ASSERT_TRUE(fake->Register(Svc("b", 2)).ok());
  EXPECT_TRUE(WaitFor([&] { return Nodes(cache->GetService("svc")) == 2u; }));
  ASSERT_TRUE(fake->Deregister(Svc("a", 1)).ok());
  EXPECT_TRUE(WaitFor([&] {
    auto r = cache->GetService("svc");
    return Nodes(r) == 1u && r->front().nodes[0].id == "b";
  }));
  ASSERT_TRUE(fake->Deregister(Svc("b", 2)).ok());
  // The last node gone: the service leaves the cache, and the next lookup asks the registry.
  EXPECT_TRUE(WaitFor([&] { return !cache->GetService("svc").ok(); }));
  // The first lookup, one afresh when the watch began, one after the service left.
  EXPECT_EQ(fake->lookups, 3);
}

// A change made after the first lookup but before the watch is running is not lost: the
// cache looks up afresh once its watch has begun.
TEST(RegistryCacheTest, ChangesBeforeTheWatchBeginsAreNotLost) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = NewCache(fake);  // TTL 1 min
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  ASSERT_TRUE(fake->Register(Svc("b", 2)).ok());  // within the watch's start-up jitter
  EXPECT_TRUE(WaitFor([&] { return Nodes(cache->GetService("svc")) == 2u; }));
}

TEST(RegistryCacheTest, OtherCallsGoStraightThrough) {
  auto fake = std::make_shared<FakeRegistry>();
  auto cache = NewCache(fake, {.watch = false});
  ASSERT_TRUE(cache->Register(Svc("a", 1)).ok());
  auto list = cache->ListServices();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  ASSERT_TRUE(cache->Deregister(Svc("a", 1)).ok());
  EXPECT_FALSE(fake->GetService("svc").ok());
}

}  // namespace
}  // namespace micro
