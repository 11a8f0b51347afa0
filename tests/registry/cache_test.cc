// The registry cache (go-micro's registry/cache semantics).
#include <gtest/gtest.h>
#include <micro/registry.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "registry/counting_registry.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

using FakeRegistry = testing_util::CountingRegistry;

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

// The shared poll, with this file's 2 s limit.
template <class F>
bool WaitFor(F&& pred) {
  return testing_util::WaitFor(std::forward<F>(pred), 2s);
}

TEST(RegistryCacheTest, AnswersFromMemoryWhileFresh) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake, {.watch = false});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  EXPECT_EQ(fake->lookups, 1);
  EXPECT_EQ(cache->String(), "cache");
}

TEST(RegistryCacheTest, RefetchesAfterTtl) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake, {.ttl = 30ms, .min_retry_interval = 0ms, .watch = false});
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
  auto cache = *NewCache(fake, {.ttl = 10ms, .min_retry_interval = 0ms, .watch = false});
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
  auto cache = *NewCache(fake, {.ttl = 10ms, .min_retry_interval = 1h, .watch = false});
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  std::this_thread::sleep_for(20ms);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  EXPECT_EQ(fake->lookups, 1);
}

TEST(RegistryCacheTest, OneLookupInFlightPerService) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  fake->delay = 100ms;
  auto cache = *NewCache(fake, {.watch = false});
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
  auto cache = *NewCache(fake, {.watch = false});
  auto r = cache->GetService("svc");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(registry::IsNotFound(r.error()));
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
}

TEST(RegistryCacheTest, WatchEventsUpdateCachedServices) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake);  // TTL 1 min: only the watch can change what it returns
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
  auto cache = *NewCache(fake);  // TTL 1 min
  EXPECT_EQ(Nodes(cache->GetService("svc")), 1u);
  ASSERT_TRUE(fake->Register(Svc("b", 2)).ok());  // within the watch's start-up jitter
  EXPECT_TRUE(WaitFor([&] { return Nodes(cache->GetService("svc")) == 2u; }));
}

TEST(RegistryCacheTest, OtherCallsGoStraightThrough) {
  auto fake = std::make_shared<FakeRegistry>();
  auto cache = *NewCache(fake, {.watch = false});
  ASSERT_TRUE(cache->Register(Svc("a", 1)).ok());
  auto list = cache->ListServices();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  ASSERT_TRUE(cache->Deregister(Svc("a", 1)).ok());
  EXPECT_FALSE(fake->GetService("svc").ok());
}

TEST(RegistryCacheTest, PeekNeverAsksTheRegistry) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake, {.ttl = 20ms, .min_retry_interval = 0ms, .watch = false});
  EXPECT_EQ(cache->Peek("svc"), nullptr);
  EXPECT_EQ(fake->lookups, 0);
  auto snap = cache->Lookup("svc");
  ASSERT_TRUE(snap.ok()) << snap.error();
  EXPECT_EQ(cache->Peek("svc"), *snap);
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(cache->Peek("svc"), nullptr);  // expired: a lookup is due
  EXPECT_EQ(fake->lookups, 1);
}

// Readers share one immutable snapshot; a change publishes a new one and leaves the old alone.
TEST(RegistryCacheTest, SnapshotsAreSharedAndReplacedNeverChanged) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake);
  auto first = cache->Lookup("svc");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ((*first)->name, "svc");
  ASSERT_EQ((*first)->nodes.size(), 1u);
  EXPECT_EQ(*cache->Lookup("svc"), *first);  // the same object, not a copy
  EXPECT_EQ(cache->Peek("svc"), *first);
  std::this_thread::sleep_for(150ms);  // the watch is running
  ASSERT_TRUE(fake->Register(Svc("b", 2)).ok());
  EXPECT_TRUE(WaitFor([&] {
    auto now = cache->Lookup("svc");
    return now.ok() && (*now)->nodes.size() == 2u;
  }));
  EXPECT_NE(*cache->Lookup("svc"), *first);
  EXPECT_EQ((*first)->nodes.size(), 1u);  // what a reader held is unchanged
  EXPECT_EQ((*first)->services.front().nodes.size(), 1u);
}

// 32 asynchronous misses at once: none waits, and one registry lookup answers all of them
// (plus a synchronous caller that joins the same flight).
TEST(RegistryCacheTest, ConcurrentAsyncMissesShareOneLookup) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake, {.watch = false});
  fake->CloseGate();
  constexpr int kCallers = 32;
  std::mutex mu;
  std::vector<Result<registry::SnapshotPtr>> answers;
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      cache->LookupAsync("svc", [&](Result<registry::SnapshotPtr> r) {
        std::lock_guard lock(mu);
        answers.push_back(std::move(r));
      });
    });
  }
  for (auto& t : callers) t.join();  // every LookupAsync returned while the lookup is held
  EXPECT_EQ(fake->lookups_done, 0);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(answers.empty());
  }
  auto sync = std::async(std::launch::async, [&] { return cache->Lookup("svc"); });
  fake->OpenGate();
  auto joined = sync.get();
  ASSERT_TRUE(joined.ok()) << joined.error();
  EXPECT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return answers.size() == size_t(kCallers);
  }));
  EXPECT_EQ(fake->lookups, 1);
  std::lock_guard lock(mu);
  for (auto& a : answers) {
    ASSERT_TRUE(a.ok()) << a.error();
    EXPECT_EQ(*a, *joined);  // one snapshot for all
  }
}

TEST(RegistryCacheTest, AsyncLookupOfACachedServiceAnswersInline) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake, {.watch = false});
  ASSERT_TRUE(cache->Lookup("svc").ok());
  bool called = false;
  cache->LookupAsync("svc", [&](Result<registry::SnapshotPtr> r) {
    called = true;
    EXPECT_TRUE(r.ok());
  });
  EXPECT_TRUE(called);  // before LookupAsync returned, on this thread
  EXPECT_EQ(fake->lookups, 1);
}

TEST(RegistryCacheTest, AsyncMissOfAnUnknownServiceIsNotFound) {
  auto fake = std::make_shared<FakeRegistry>();
  auto cache = *NewCache(fake, {.watch = false});
  std::promise<Result<registry::SnapshotPtr>> answer;
  cache->LookupAsync("svc", [&](Result<registry::SnapshotPtr> r) { answer.set_value(r); });
  auto r = answer.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(registry::IsNotFound(r.error()));
}

// A cache destroyed while an asynchronous lookup is in flight waits for it, and its callback
// still runs.
TEST(RegistryCacheTest, DestroyedWithALookupInFlight) {
  auto fake = std::make_shared<FakeRegistry>();
  ASSERT_TRUE(fake->Register(Svc("a", 1)).ok());
  auto cache = *NewCache(fake);
  fake->delay = 50ms;
  std::atomic<bool> called{false};
  cache->LookupAsync("svc", [&](Result<registry::SnapshotPtr>) { called = true; });
  cache.reset();
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace micro
