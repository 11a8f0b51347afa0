#include <fmt/format.h>
#include <micro/testing/broker_contract.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace micro::testing {
namespace {

using namespace std::chrono_literals;

// Counts what each subscriber received, by message body.
class Tally {
 public:
  broker::Handler Handler(int who) {
    return [this, who](const broker::Event& e) {
      std::lock_guard lock(mu_);
      ++seen_[who][e.message.body];
      ++total_;
      cv_.notify_all();
      return Status{};
    };
  }
  bool WaitTotal(std::size_t n, Duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return total_ >= n; });
  }
  std::size_t total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  std::map<std::string, int> Of(int who) {
    std::lock_guard lock(mu_);
    return seen_[who];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, std::map<std::string, int>> seen_;
  std::size_t total_ = 0;
};

}  // namespace

void BrokerContractTest::SetUp() {
  if (GetParam().skip_reason) {
    if (std::string why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
}

void BrokerContractTest::TearDown() {
  for (auto& b : brokers_) (void)b->Disconnect();
  brokers_.clear();
}

std::shared_ptr<Broker> BrokerContractTest::Make() {
  auto b = GetParam().make();
  EXPECT_TRUE(b.ok()) << b.error();
  if (!b) return nullptr;
  EXPECT_TRUE((*b)->Connect().ok());
  brokers_.push_back(*b);
  return *b;
}

std::string BrokerContractTest::Unique(std::string_view base) {
  static std::atomic<int> n{0};
  return fmt::format("{}-{}-{}", base, getpid(), n++);
}

void BrokerContractTest::WaitVisible(Broker& publisher, const std::vector<Broker*>& subscribers) {
  for (Broker* s : subscribers) {
    const std::string topic = Unique("probe");
    std::atomic<bool> got{false};
    auto sub = s->Subscribe(topic, [&](const broker::Event&) {
      got = true;
      return Status{};
    });
    ASSERT_TRUE(sub.ok()) << sub.error();
    const auto until = Clock::now() + 20s;
    while (!got && Clock::now() < until) {
      ASSERT_TRUE(publisher.Publish(topic, {.body = "probe"}).ok());
      for (int i = 0; i < 20 && !got; ++i) std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(got) << "a subscription never became visible to the publisher";
    (void)(*sub)->Unsubscribe();
  }
}

TEST_P(BrokerContractTest, PublishDeliversHeaderAndBodyIntact) {
  auto pub = Make();
  auto subber = Make();
  ASSERT_TRUE(pub && subber);
  const std::string topic = Unique("intact");
  std::string body;
  for (int c = 0; c < 256; ++c) body.push_back(static_cast<char>(c));
  std::mutex mu;
  std::condition_variable cv;
  std::optional<broker::Event> got;
  auto sub = subber->Subscribe(topic, [&](const broker::Event& e) {
    std::lock_guard lock(mu);
    got = e;
    cv.notify_all();
    return Status{};
  });
  ASSERT_TRUE(sub.ok()) << sub.error();
  WaitVisible(*pub, {subber.get()});
  ASSERT_TRUE(
      pub->Publish(topic, {.header = {{"Id", "42"}, {"X-Unicode", "héllo"}}, .body = body}).ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return got.has_value(); }));
  EXPECT_EQ(got->topic, topic);
  EXPECT_EQ(got->message.body, body);
  EXPECT_EQ(got->message.header.GetOr("Id"), "42");
  EXPECT_EQ(got->message.header.GetOr("X-Unicode"), "héllo");
  EXPECT_TRUE(got->ack().ok());
}

TEST_P(BrokerContractTest, BroadcastDeliversEveryMessageToEverySubscriberExactlyOnce) {
  auto pub = Make();
  std::vector<std::shared_ptr<Broker>> subbers{Make(), Make(), Make()};
  const std::string topic = Unique("broadcast");
  Tally tally;
  std::vector<std::unique_ptr<broker::Subscriber>> subs;
  for (int i = 0; i < 3; ++i) {
    auto s = subbers[i]->Subscribe(topic, tally.Handler(i));
    ASSERT_TRUE(s.ok()) << s.error();
    subs.push_back(std::move(*s));
  }
  WaitVisible(*pub, {subbers[0].get(), subbers[1].get(), subbers[2].get()});
  const int n = GetParam().message_count;
  for (int i = 0; i < n; ++i) {
    Status s;
    // A bounded inbox may push back (429): wait and retry, as a publisher would.
    while (!(s = pub->Publish(topic, {.body = std::to_string(i)})) && s.error().code == 429) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(s.ok()) << s.error();
  }
  ASSERT_TRUE(tally.WaitTotal(3 * n, GetParam().delivery_timeout)) << tally.total();
  std::this_thread::sleep_for(100ms);  // duplicates would arrive now
  for (int who = 0; who < 3; ++who) {
    auto seen = tally.Of(who);
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(n)) << "subscriber " << who;
    for (const auto& [body, count] : seen) EXPECT_EQ(count, 1) << body;
  }
}

TEST_P(BrokerContractTest, QueueDeliversEachMessageToExactlyOneMember) {
  auto pub = Make();
  std::vector<std::shared_ptr<Broker>> subbers{Make(), Make(), Make()};
  const std::string topic = Unique("queue");
  Tally tally;
  std::vector<std::unique_ptr<broker::Subscriber>> subs;
  for (int i = 0; i < 3; ++i) {
    auto s = subbers[i]->Subscribe(topic, tally.Handler(i), {.queue = "workers"});
    ASSERT_TRUE(s.ok()) << s.error();
    subs.push_back(std::move(*s));
  }
  WaitVisible(*pub, {subbers[0].get(), subbers[1].get(), subbers[2].get()});
  const int n = GetParam().message_count;
  for (int i = 0; i < n; ++i) {
    Status s;
    while (!(s = pub->Publish(topic, {.body = std::to_string(i)})) && s.error().code == 429) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(s.ok()) << s.error();
  }
  ASSERT_TRUE(tally.WaitTotal(n, GetParam().delivery_timeout)) << tally.total();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(tally.total(), static_cast<std::size_t>(n));
  std::map<std::string, int> all;
  for (int who = 0; who < 3; ++who) {
    auto seen = tally.Of(who);
    EXPECT_GT(seen.size(), 0u) << "member " << who << " got no share of the load";
    for (const auto& [body, count] : seen) all[body] += count;
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(n));
  for (const auto& [body, count] : all) EXPECT_EQ(count, 1) << body;
}

TEST_P(BrokerContractTest, FailingSubscriberDoesNotStopOthersAndIsNotRedelivered) {
  // (That the error reaches BrokerOptions::error_handler is checked per implementation,
  // where the test controls the options.)
  std::mutex mu;
  std::vector<std::string> reported;
  auto pub = Make();
  auto failing_broker = Make();
  auto good_broker = Make();
  const std::string topic = Unique("failing");
  Tally tally;
  auto s1 = failing_broker->Subscribe(topic, [&](const broker::Event& e) -> Status {
    std::lock_guard lock(mu);
    reported.push_back(e.message.body);
    return errors::InternalServerError("test", "subscriber failed on {}", e.message.body);
  });
  auto s2 = good_broker->Subscribe(topic, tally.Handler(0));
  ASSERT_TRUE(s1.ok() && s2.ok());
  WaitVisible(*pub, {failing_broker.get(), good_broker.get()});
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(pub->Publish(topic, {.body = std::to_string(i)}).ok());
  ASSERT_TRUE(tally.WaitTotal(20, 20s));
  const auto until = Clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (reported.size() >= 20 || Clock::now() > until) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(reported.size(), 20u);  // each once: a failure is not a reason to redeliver
}

TEST_P(BrokerContractTest, UnsubscribeStopsDelivery) {
  auto pub = Make();
  auto subber = Make();
  const std::string topic = Unique("unsub");
  Tally gone, stays;
  auto s1 = subber->Subscribe(topic, gone.Handler(0));
  auto s2 = subber->Subscribe(topic, stays.Handler(0));
  ASSERT_TRUE(s1.ok() && s2.ok());
  WaitVisible(*pub, {subber.get()});
  ASSERT_TRUE((*s1)->Unsubscribe().ok());
  EXPECT_TRUE((*s1)->Unsubscribe().ok());  // idempotent
  WaitVisible(*pub, {subber.get()});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pub->Publish(topic, {.body = std::to_string(i)}).ok());
  ASSERT_TRUE(stays.WaitTotal(10, 20s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(gone.total(), 0u);
}

TEST_P(BrokerContractTest, ResubscribedBrokerGetsMessagesAgain) {
  auto pub = Make();
  const std::string topic = Unique("restart");
  {
    auto first = Make();
    Tally before;
    auto s = first->Subscribe(topic, before.Handler(0));
    ASSERT_TRUE(s.ok());
    WaitVisible(*pub, {first.get()});
    ASSERT_TRUE(pub->Publish(topic, {.body = "before"}).ok());
    ASSERT_TRUE(before.WaitTotal(1, 20s));
    ASSERT_TRUE(first->Disconnect().ok());  // the subscriber goes away
  }
  auto second = Make();  // ... and comes back as a new process would
  Tally after;
  auto s = second->Subscribe(topic, after.Handler(0));
  ASSERT_TRUE(s.ok());
  WaitVisible(*pub, {second.get()});
  ASSERT_TRUE(pub->Publish(topic, {.body = "after"}).ok());
  ASSERT_TRUE(after.WaitTotal(1, 20s));
  EXPECT_EQ(after.Of(0).count("after"), 1u);
}

TEST_P(BrokerContractTest, BadTopicsAndDisconnectedUseAreClearErrors) {
  auto b = GetParam().make();
  ASSERT_TRUE(b.ok());
  brokers_.push_back(*b);
  auto not_connected = (*b)->Publish("t", {.body = "x"});
  EXPECT_EQ(not_connected.error().code, 503) << not_connected.error();
  ASSERT_TRUE((*b)->Connect().ok());
  EXPECT_TRUE((*b)->Connect().ok());  // idempotent
  EXPECT_EQ((*b)->Publish("", {.body = "x"}).error().code, 400);
  auto sub = (*b)->Subscribe("", [](const broker::Event&) { return Status{}; });
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.error().code, 400);
  ASSERT_TRUE((*b)->Disconnect().ok());
  EXPECT_EQ((*b)->Publish("t", {.body = "x"}).error().code, 503);
}

// A test binary may instantiate only some of the suites of micro::contract_tests.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BrokerContractTest);

}  // namespace micro::testing

// Pulls this file's tests out of the static library into every test binary that links it
// (the library's link interface names the symbol: see src/testing/CMakeLists.txt).
extern "C" {
extern const int micro_contract_anchor_broker;
const int micro_contract_anchor_broker = 1;
}
