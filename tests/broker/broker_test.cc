// The broker contract for the built-in brokers, go-micro's message JSON, and what only the
// HTTP broker does: its registry entries, its answers to bad POSTs, retries and its inbox bound.
#include "micro/broker.h"

#include <gtest/gtest.h>
#include <micro/testing/broker_contract.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/server.h"
#include "micro/registry.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using testing::BrokerContractParam;
using testing::BrokerContractTest;

std::shared_ptr<Registry> SharedRegistry() {
  static auto* r = new std::shared_ptr<Registry>(*NewMemoryRegistry());
  return *r;
}

std::shared_ptr<Broker> SharedMemoryBroker() {
  static auto* b = new std::shared_ptr<Broker>(*NewMemoryBroker());
  return *b;
}

INSTANTIATE_TEST_SUITE_P(
    Builtin, BrokerContractTest,
    ::testing::Values(BrokerContractParam{.name = "memory",
                                          .make = []() -> Result<std::shared_ptr<Broker>> {
                                            return SharedMemoryBroker();
                                          }},
                      BrokerContractParam{
                          .name = "http",
                          .make = [] { return NewHttpBroker({.registry = SharedRegistry()}); }}),
    testing::BrokerContractName);

// --- message JSON ------------------------------------------------------------------------

TEST(BrokerMessageJson, EncodesAsGoDoes) {
  Message m{.header = {{"Micro-Topic", "events"}, {"A", "<x>"}}, .body = "hello"};
  EXPECT_EQ(broker::ToJson(m),
            R"({"Header":{"A":"\u003cx\u003e","Micro-Topic":"events"},"Body":"aGVsbG8="})");
  EXPECT_EQ(broker::ToJson(Message{}), R"({"Header":{},"Body":""})");
}

TEST(BrokerMessageJson, DecodesGoMicroMessages) {
  auto m = broker::MessageFromJson(
      R"({"header":{"Micro-Topic":"events","Content-Type":"application/json"},"body":"eyJhIjoxfQ=="})");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->header.GetOr("micro-topic"), "events");
  EXPECT_EQ(m->body, R"({"a":1})");
  auto nulls = broker::MessageFromJson(R"({"Header":null,"Body":null,"Other":[1]})");
  ASSERT_TRUE(nulls.ok());
  EXPECT_TRUE(nulls->header.empty());
  EXPECT_TRUE(nulls->body.empty());
}

TEST(BrokerMessageJson, RejectsMalformedInputWith400) {
  for (std::string_view bad : {"", "nope", "[]", R"({"Header":[]})", R"({"Header":{"a":1}})",
                               R"({"Body":"***"})", R"({"Body":"aGVsbG8"})", R"({"Body":5})",
                               "{\"Header\":{\"a\":\"b\"}", "[[[[[[[[[[[[[]]]]]]]]]]]]]"}) {
    auto m = broker::MessageFromJson(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.error().code, 400) << bad;
    EXPECT_EQ(m.error().id, "go.micro.broker");
  }
}

TEST(BrokerTable, KnowsBuiltinsAndNamesUnknownOnes) {
  EXPECT_TRUE(Brokers().Has("http"));
  EXPECT_TRUE(Brokers().Has("memory"));
  auto unknown = Brokers().Create("kafka", {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().detail.find("known: http, memory"), std::string::npos)
      << unknown.error();
  auto no_registry = Brokers().Create("http", {});
  ASSERT_FALSE(no_registry.ok());
  EXPECT_EQ(no_registry.error().code, 400);
}

TEST(MemoryBroker, QueueMembersShareAndErrorsReachTheErrorHandler) {
  std::vector<std::string> reported;
  auto b = *NewMemoryBroker({.error_handler = [&](const broker::Event& e, const Error& err) {
    reported.push_back(e.message.body + ":" + err.detail);
  }});
  ASSERT_TRUE(b->Connect().ok());
  int a = 0, c = 0, all = 0;
  auto s1 = b->Subscribe("t",
                         [&](const broker::Event&) {
                           ++a;
                           return Status{};
                         },
                         {.queue = "q"});
  auto s2 = b->Subscribe("t",
                         [&](const broker::Event&) {
                           ++c;
                           return Status{};
                         },
                         {.queue = "q"});
  auto s3 = b->Subscribe("t", [&](const broker::Event& e) -> Status {
    ++all;
    return errors::BadRequest("test", "no {}", e.message.body);
  });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(b->Publish("t", {.body = "m"}).ok());
  EXPECT_EQ(a + c, 10);
  EXPECT_EQ(a, 5);
  EXPECT_EQ(all, 10);
  ASSERT_EQ(reported.size(), 10u);
  EXPECT_EQ(reported[0], "m:no m");
}

// --- HTTP broker ---------------------------------------------------------------------------

struct RawReply {
  int status = 0;
  std::string body;
};

// Sends raw bytes to addr and reads one HTTP response (Content-Length bodies only).
RawReply RawRequest(const std::string& addr, const std::string& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  auto colon = addr.rfind(':');
  sock.connect({asio::ip::make_address(addr.substr(0, colon)),
                static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)))});
  asio::write(sock, asio::buffer(bytes));
  std::string in;
  std::error_code ec;
  auto head_end = asio::read_until(sock, asio::dynamic_buffer(in), "\r\n\r\n", ec);
  if (ec) return {};
  RawReply r;
  r.status = std::stoi(in.substr(9, 3));
  std::size_t length = 0;
  if (auto at = in.find("Content-Length: "); at != std::string::npos && at < head_end) {
    length = std::stoul(in.substr(at + 16));
  }
  if (in.size() < head_end + length) {
    asio::read(sock, asio::dynamic_buffer(in),
               asio::transfer_exactly(head_end + length - in.size()), ec);
  }
  r.body = in.substr(head_end, length);
  return r;
}

std::string Post(std::string_view target, std::string_view body) {
  return fmt::format(
      "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n{}",
      target, body.size(), body);
}

class HttpBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *NewMemoryRegistry();
    BrokerOptions o{.registry = registry_};
    o.error_handler = [this](const broker::Event& e, const Error& err) {
      std::lock_guard lock(mu_);
      errors_.push_back(e.topic + ": " + err.detail);
    };
    broker_ = *NewHttpBroker(o);
    ASSERT_TRUE(broker_->Connect().ok());
  }
  void TearDown() override { (void)broker_->Disconnect(); }

  registry::Node OnlyNode(const std::string& version) {
    auto services = registry_->GetService("micro.http.broker");
    EXPECT_TRUE(services.ok());
    for (const auto& s : *services) {
      if (s.version == version && s.nodes.size() == 1) return s.nodes[0];
    }
    ADD_FAILURE() << "no single node for version " << version;
    return {};
  }

  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Broker> broker_;
  std::mutex mu_;
  std::vector<std::string> errors_;
};

TEST_F(HttpBrokerTest, SubscribersRegisterAsGoMicroDoes) {
  EXPECT_TRUE(broker_->Address().starts_with("127.0.0.1:")) << broker_->Address();
  auto s1 = broker_->Subscribe("orders", [](const broker::Event&) { return Status{}; });
  auto s2 = broker_->Subscribe("orders", [](const broker::Event&) { return Status{}; },
                               {.queue = "audit"});
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto broadcast = OnlyNode("ff.http.broadcast");
  EXPECT_TRUE(broadcast.id.starts_with("orders-")) << broadcast.id;
  EXPECT_EQ(broadcast.id.size(), std::string("orders-").size() + 36);  // "<topic>-<uuid>"
  EXPECT_EQ(broadcast.address, broker_->Address());
  EXPECT_EQ(broadcast.metadata,
            (registry::StringMap{{"broker", "http"}, {"secure", "false"}, {"topic", "orders"}}));
  auto queued = OnlyNode("audit");
  EXPECT_EQ(queued.metadata.at("topic"), "orders");
  EXPECT_NE(queued.id, broadcast.id);  // one node id per subscription
  ASSERT_TRUE((*s1)->Unsubscribe().ok());
  auto left = registry_->GetService("micro.http.broker");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].version, "audit");
}

TEST_F(HttpBrokerTest, AcceptsGoMicroPostsAndRejectsMalformedOnesWithoutCrashing) {
  std::mutex mu;
  std::vector<broker::Event> got;
  auto sub = broker_->Subscribe("events", [&](const broker::Event& e) {
    std::lock_guard lock(mu);
    got.push_back(e);
    return Status{};
  });
  ASSERT_TRUE(sub.ok());
  const std::string id = OnlyNode("ff.http.broadcast").id;
  const std::string addr = broker_->Address();
  const std::string go_micro_body =
      R"({"Header":{"Content-Type":"application/json","Micro-Id":"1","Micro-Topic":"events"},"Body":"eyJuYW1lIjoiSm9obiJ9"})";

  // What a go-micro publisher sends.
  auto ok = RawRequest(addr, Post("/?id=" + id, go_micro_body));
  EXPECT_EQ(ok.status, 200);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].topic, "events");
    EXPECT_EQ(got[0].message.body, R"({"name":"John"})");
    EXPECT_EQ(got[0].message.header.GetOr("Micro-Id"), "1");
  }

  auto get = RawRequest(addr, "GET /?id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(Error::Parse(get.body).detail, "Method not allowed");
  EXPECT_EQ(RawRequest(addr, Post("/?id=" + id, "not json")).status, 400);
  EXPECT_EQ(RawRequest(addr, Post("/?id=" + id, R"({"Body":"%%%"})")).status, 400);
  auto no_topic = RawRequest(addr, Post("/?id=" + id, R"({"Header":{},"Body":""})"));
  EXPECT_EQ(no_topic.status, 400);
  EXPECT_EQ(Error::Parse(no_topic.body).detail, "Topic not found");
  EXPECT_EQ(RawRequest(addr, Post("/?id=someone-else", go_micro_body)).status, 404);
  EXPECT_EQ(RawRequest(addr, "\x16\x03\x01 garbage\r\n\r\n").status, 400);
  EXPECT_EQ(RawRequest(addr, "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n").status, 413);
  // Hostile publishers: deep nesting, invalid UTF-8, bad and conflicting lengths.
  const std::string deep =
      R"({"Header":)" + std::string(50000, '[') + std::string(50000, ']') + "}";
  EXPECT_EQ(RawRequest(addr, Post("/?id=" + id, deep)).status, 400);
  EXPECT_EQ(RawRequest(addr, Post("/?id=" + id,
                                  "{\"Header\":{\"Micro-Topic\":\"ev\xC3\x28\"},\"Body\":\"\"}"))
                .status,
            400);
  EXPECT_EQ(RawRequest(addr, "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n").status, 400);
  EXPECT_EQ(RawRequest(addr,
                       "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "0\r\n\r\n")
                .status,
            400);

  // Still serving, and nothing bad reached the subscriber.
  EXPECT_EQ(RawRequest(addr, Post("/?id=" + id, go_micro_body)).status, 200);
  std::lock_guard lock(mu);
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(HttpBrokerTest, SubscriberErrorsReachTheErrorHandler) {
  auto sub = broker_->Subscribe("fails", [](const broker::Event&) -> Status {
    return errors::InternalServerError("audit", "disk full");
  });
  ASSERT_TRUE(sub.ok());
  auto other = *NewHttpBroker({.registry = registry_});
  ASSERT_TRUE(other->Connect().ok());
  ASSERT_TRUE(other->Publish("fails", {.body = "x"}).ok());
  const auto until = Clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (!errors_.empty() || Clock::now() > until) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  std::lock_guard lock(mu_);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0], "fails: disk full");
  (void)other->Disconnect();
}

// A subscriber node that is registered but not listening yet: the publisher keeps its
// messages and delivers them once the node answers; and the inbox bound gives a clear 429.
TEST_F(HttpBrokerTest, UndeliverableMessagesAreRetriedAndTheInboxIsBounded) {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = probe.local_endpoint().port();
  probe.close();  // nothing listens there for now
  ASSERT_TRUE(registry_
                  ->Register({.name = "micro.http.broker",
                              .version = "ff.http.broadcast",
                              .nodes = {{.id = "late-node",
                                         .address = fmt::format("127.0.0.1:{}", port),
                                         .metadata = {{"broker", "http"},
                                                      {"secure", "false"},
                                                      {"topic", "late"}}}}})
                  .ok());
  auto publisher = *NewHttpBroker({.registry = registry_, .inbox_limit = 5});
  ASSERT_TRUE(publisher->Connect().ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(publisher->Publish("late", {.body = std::to_string(i)}).ok()) << i;
  }
  auto full = publisher->Publish("late", {.body = "overflow"});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, 429);
  EXPECT_NE(full.error().detail.find("full"), std::string::npos);
  std::this_thread::sleep_for(300ms);  // a few failed attempts

  // The node comes up (a plain HTTP server) and receives all five.
  auto received = std::make_shared<std::vector<std::string>>();
  std::mutex mu;
  auto receiver =
      http::Server::Start(io.get_executor(), {.address = fmt::format("127.0.0.1:{}", port)},
                          [&](http::ServerRequest& r) -> asio::awaitable<http::ServerReply> {
                            std::lock_guard lock(mu);
                            EXPECT_EQ(http::QueryParam(r.target, "id"), "late-node");
                            received->push_back(broker::MessageFromJson(r.body)->body);
                            co_return http::ServerReply{};
                          });
  ASSERT_TRUE(receiver.ok()) << receiver.error();
  std::thread runner([&] { io.run_for(10s); });
  const auto until = Clock::now() + 10s;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (received->size() >= 5 || Clock::now() > until) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(mu);
    std::sort(received->begin(), received->end());
    EXPECT_EQ(*received, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  }
  EXPECT_TRUE(publisher->Publish("late", {.body = "room again"}).ok());
  (void)publisher->Disconnect();
  (*receiver)->Close();
  io.stop();
  runner.join();
}

TEST(HttpBrokerTls, SecureBrokersDeliverOverTlsAndAdvertiseIt) {
  auto registry = *NewMemoryRegistry();
  auto subscriber = *NewHttpBroker({.secure = true, .registry = registry});
  auto publisher = *NewHttpBroker({.secure = true, .registry = registry});
  ASSERT_TRUE(subscriber->Connect().ok());
  ASSERT_TRUE(publisher->Connect().ok());
  std::mutex mu;
  std::condition_variable cv;
  std::string got;
  auto sub = subscriber->Subscribe("secret", [&](const broker::Event& e) {
    std::lock_guard lock(mu);
    got = e.message.body;
    cv.notify_all();
    return Status{};
  });
  ASSERT_TRUE(sub.ok());
  auto nodes = registry->GetService("micro.http.broker");
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ((*nodes)[0].nodes[0].metadata.at("secure"), "true");
  // Plain HTTP to a TLS receiver is refused, not served.
  EXPECT_NE(RawRequest(subscriber->Address(), Post("/?id=x", "{}")).status, 200);
  ASSERT_TRUE(publisher->Publish("secret", {.body = "over tls"}).ok());
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return got == "over tls"; })) << got;
  lock.unlock();
  (void)publisher->Disconnect();
  (void)subscriber->Disconnect();
}

TEST(HttpServerQuery, DecodesParameters) {
  EXPECT_EQ(http::QueryParam("/?id=a-b", "id"), "a-b");
  EXPECT_EQ(http::QueryParam("/?x=1&id=a%2Fb+c", "id"), "a/b c");
  EXPECT_EQ(http::QueryParam("/", "id"), "");
  EXPECT_EQ(http::QueryParam("/?id", "id"), "");
  EXPECT_EQ(http::QueryParam("/?id=%zz", "id"), "%zz");
}

}  // namespace
}  // namespace micro
