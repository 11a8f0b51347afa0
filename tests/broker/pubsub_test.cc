// Server subscribers and client Publish over the HTTP broker (go-micro §7.5, §8.6).
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "greeter.pb.h"
#include "micro/broker.h"
#include "micro/client.h"
#include "micro/server.h"
#include "micro/transport.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

template <class T>
class Inbox {
 public:
  void Put(T v) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  bool WaitFor(std::size_t n, Duration timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
  }
  std::vector<T> Items() {
    std::lock_guard lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

// A version-4 UUID in its canonical text form. (No std::regex: g++ 12 warns inside it under
// sanitizers.)
bool IsUuidV4(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i])) ||
               std::isupper(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return s[14] == '4' && std::string_view("89ab").find(s[19]) != std::string_view::npos;
}

struct Received {
  std::string name;
  Metadata metadata;
};

// A service (server + its own broker) and a publishing client (with its own broker), all
// sharing one memory registry, as separate processes would share mDNS.
class PubSubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *NewMemoryRegistry();
    transport_ = *NewMemoryTransport({});
  }
  void TearDown() override {
    for (auto& s : servers_) (void)s->Stop();
    for (auto& b : brokers_) (void)b->Disconnect();
  }

  std::shared_ptr<Broker> NewBroker(
      std::function<void(const broker::Event&, const Error&)> eh = {}) {
    auto b = *NewHttpBroker({.registry = registry_, .error_handler = std::move(eh)});
    brokers_.push_back(b);
    return b;
  }
  std::shared_ptr<Server> NewAuditServer(std::shared_ptr<Broker> broker) {
    auto s = *NewServer({.name = "audit",
                         .address = "127.0.0.1:0",
                         .broker = broker ? broker : NewBroker(),
                         .transport = transport_,
                         .registry = registry_});
    servers_.push_back(s);
    return s;
  }
  std::shared_ptr<Client> NewPublisher() {
    ClientOptions o;
    o.transport = transport_;
    o.broker = NewBroker();
    return *NewClient(o);
  }
  // Publishes probes until the subscriber group of `topic` answers (registry caches settle).
  void WaitSubscribed(Client& client, const std::string& topic, Inbox<Received>& inbox) {
    const auto until = Clock::now() + 20s;
    std::size_t before = inbox.Items().size();
    while (Clock::now() < until) {
      greeter::Request probe;
      probe.set_name("probe");
      Context ctx;
      ASSERT_TRUE(Publish(client, ctx, topic, probe).ok());
      if (inbox.WaitFor(before + 1, 50ms)) return;
    }
    FAIL() << "subscriber of " << topic << " never reached";
  }

  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Transport> transport_;
  std::vector<std::shared_ptr<Broker>> brokers_;
  std::vector<std::shared_ptr<Server>> servers_;
};

TEST_F(PubSubTest, TypedSubscriberGetsDecodedMessagesWithGoMicroHeaders) {
  Inbox<Received> inbox;
  auto server = NewAuditServer(nullptr);
  ASSERT_TRUE(Subscribe<greeter::Request>(*server, "user.created",
                                          [&](Context& ctx, const greeter::Request& r) {
                                            inbox.Put({r.name(), ctx.metadata()});
                                            return Status{};
                                          })
                  .ok());
  ASSERT_TRUE(server->Start().ok());
  auto client = NewPublisher();
  WaitSubscribed(*client, "user.created", inbox);

  for (std::string content_type : {"application/json", "application/protobuf"}) {
    greeter::Request msg;
    msg.set_name("John via " + content_type);
    Context ctx;
    ctx.metadata().Set("Traceparent", "abc");
    ASSERT_TRUE(Publish(*client, ctx, "user.created", msg, {.content_type = content_type}).ok());
  }
  // A late probe from WaitSubscribed may still arrive (TSan is slow): look past probes.
  std::vector<Received> items;
  for (std::size_t n = 3; n < 10 && items.size() < 2; ++n) {
    ASSERT_TRUE(inbox.WaitFor(n));
    items.clear();
    for (auto& item : inbox.Items()) {
      if (item.name != "probe") items.push_back(item);
    }
  }
  ASSERT_EQ(items.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string content_type = i == 0 ? "application/json" : "application/protobuf";
    EXPECT_EQ(items[i].name, "John via " + content_type);
    EXPECT_EQ(items[i].metadata.GetOr("Content-Type"), content_type);
    EXPECT_EQ(items[i].metadata.GetOr("Micro-Topic"), "user.created");
    EXPECT_EQ(items[i].metadata.GetOr("Traceparent"), "abc");
    EXPECT_TRUE(IsUuidV4(items[i].metadata.GetOr("Micro-Id")))
        << items[i].metadata.GetOr("Micro-Id");
    // The literal key go-micro v4-v6 publish and read (issue 15: wire parity).
    bool literal = false;
    for (const auto& [key, value] : items[i].metadata) literal = literal || key == "Micro-ID";
    EXPECT_TRUE(literal) << "no header spelled Micro-ID";
  }
}

TEST_F(PubSubTest, SubscribersOfOneTopicShareOneBrokerSubscriptionAndAreAdvertised) {
  Inbox<Received> first, second;
  auto server = NewAuditServer(nullptr);
  ASSERT_TRUE(Subscribe<greeter::Request>(*server, "audit.events",
                                          [&](Context&, const greeter::Request& r) {
                                            first.Put({r.name(), {}});
                                            return Status{};
                                          })
                  .ok());
  ASSERT_TRUE(Subscribe<greeter::Response>(*server, "audit.events",
                                           [&](Context&, const greeter::Response&) {
                                             second.Put({"", {}});
                                             return Status{};
                                           },
                                           {.name = "Audit.Record"})
                  .ok());
  ASSERT_TRUE(server->Start().ok());

  auto nodes = registry_->GetService("micro.http.broker");
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].nodes.size(), 1u);  // one broker subscription for both

  auto svc = registry_->GetService("audit");
  ASSERT_TRUE(svc.ok());
  const auto& endpoints = (*svc)[0].endpoints;
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0].name, "Audit.Record");
  EXPECT_EQ(endpoints[1].name, "Request");
  EXPECT_EQ(endpoints[1].metadata,
            (registry::StringMap{{"subscriber", "true"}, {"topic", "audit.events"}}));
  ASSERT_TRUE(endpoints[1].request.has_value());
  EXPECT_EQ(endpoints[1].request->name, "Request");
  EXPECT_FALSE(endpoints[1].response.has_value());
  EXPECT_EQ((*svc)[0].nodes[0].metadata.at("broker"), "http");

  auto client = NewPublisher();
  WaitSubscribed(*client, "audit.events", first);
  ASSERT_TRUE(second.WaitFor(1));  // the probe reached both
}

TEST_F(PubSubTest, SubscriberErrorsAreJoinedAndReportedWithoutStoppingOthers) {
  Inbox<std::string> reported;
  Inbox<Received> ok;
  auto server = NewAuditServer(
      NewBroker([&](const broker::Event&, const Error& e) { reported.Put(e.detail); }));
  ASSERT_TRUE(Subscribe<greeter::Request>(*server, "t", [](Context&, const greeter::Request&) {
                return Status(errors::BadRequest("audit", "bad name"));
              }).ok());
  ASSERT_TRUE(Subscribe<greeter::Request>(*server, "t", [&](Context&, const greeter::Request& r) {
                ok.Put({r.name(), {}});
                return Status{};
              }).ok());
  ASSERT_TRUE(server->Start().ok());
  auto client = NewPublisher();
  WaitSubscribed(*client, "t", ok);
  ASSERT_TRUE(reported.WaitFor(1));
  EXPECT_EQ(reported.Items()[0], "subscriber error: bad name");
}

TEST_F(PubSubTest, QueueMembersInTwoServersShareTheMessages) {
  // `all` sees the probes too (WaitSubscribed); `work` and a/b only the 200 messages: a slow
  // machine can deliver a probe after WaitSubscribed has returned.
  Inbox<Received> a, b, all, work;
  for (auto* inbox : {&a, &b}) {
    auto server = NewAuditServer(nullptr);
    ASSERT_TRUE(
        Subscribe<greeter::Request>(*server, "work",
                                    [inbox, &all, &work](Context&, const greeter::Request& r) {
                                      all.Put({r.name(), {}});
                                      if (r.name() != "probe") {
                                        inbox->Put({r.name(), {}});
                                        work.Put({r.name(), {}});
                                      }
                                      return Status{};
                                    },
                                    {.queue = "workers"})
            .ok());
    ASSERT_TRUE(server->Start().ok());
  }
  auto client = NewPublisher();
  WaitSubscribed(*client, "work", all);
  for (int i = 0; i < 200; ++i) {
    greeter::Request r;
    r.set_name(std::to_string(i));
    Context ctx;
    ASSERT_TRUE(Publish(*client, ctx, "work", r).ok());
  }
  ASSERT_TRUE(work.WaitFor(200));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(work.Items().size(), 200u);  // each message to one member only
  EXPECT_GT(a.Items().size(), 0u);
  EXPECT_GT(b.Items().size(), 0u);
}

TEST_F(PubSubTest, PublishErrorsAreClear) {
  ClientOptions o;
  o.transport = transport_;
  auto no_broker = *NewClient(o);
  greeter::Request r;
  Context ctx;
  auto s = Publish(*no_broker, ctx, "t", r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 500);
  auto client = NewPublisher();
  EXPECT_EQ(Publish(*client, ctx, "", r).error().code, 400);
  EXPECT_EQ(Publish(*client, ctx, "t", r, {.content_type = "text/nope"}).error().code, 400);
  auto server = NewAuditServer(nullptr);
  EXPECT_EQ(server->Subscribe({.topic = "t"}).error().code, 400);
}

}  // namespace
}  // namespace micro
