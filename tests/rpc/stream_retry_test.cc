// Stream creation is retried like Call (go-micro's client.Stream): retries, retry predicate,
// backoff and selector marking apply to the opening only, never once messages flowed.
#include <gtest/gtest.h>

#include <atomic>

#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using testing_util::RpcPair;
using Stream = TypedServerStream<greeter::Request, greeter::Response>;

constexpr const char* kDead = "127.0.0.1:1";  // refused at once

class StreamRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A short drain: Stop does not wait long for the open streams of the last test.
    p_ =
        RpcPair::Make("http", {.name = "streamer", .drain_timeout = std::chrono::milliseconds(50)});
    ASSERT_TRUE(p_.server->Handle(testing_util::EchoStreamHandler()).ok());
    ASSERT_TRUE(p_.server->Start().ok());
  }

  // Opens a stream and checks one echo through it.
  Status OpenAndEcho(const CallOptions& opts) {
    Context ctx;
    auto s = OpenStream<greeter::Request, greeter::Response>(*p_.client, ctx, "streamer",
                                                             "Streamer.Bidi", opts);
    if (!s) return std::move(s).error();
    greeter::Request req;
    req.set_name("x");
    if (Status st = s->Send(req); !st) return st;
    greeter::Response rsp;
    if (!s->Recv(rsp))
      return s->status().ok() ? Status(errors::InternalServerError("t", "eos")) : s->status();
    EXPECT_EQ(rsp.msg(), "echo x");
    return s->Close();
  }

  RpcPair p_;
};

// Addresses [dead, live] are taken in turn: of two openings without retries one hits the dead
// address and fails; with one retry every opening reaches the live node.
TEST_F(StreamRetryTest, OpeningIsRetriedOnAnotherAddress) {
  CallOptions no_retry{.address = {kDead, p_.server->Address()}, .retries = 0};
  int failed = 0;
  for (int i = 0; i < 2; ++i) {
    Status s = OpenAndEcho(no_retry);
    if (!s) {
      ++failed;
      EXPECT_EQ(s.error().id, "go.micro.client");
      EXPECT_NE(s.error().detail.find("connection error"), std::string::npos) << s.error();
    }
  }
  EXPECT_EQ(failed, 1);

  CallOptions retry{.address = {kDead, p_.server->Address()}, .retries = 1};
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(OpenAndEcho(retry).ok());
}

// The policy is the call's: the retry predicate decides, and the backoff runs between attempts.
TEST_F(StreamRetryTest, RetryPredicateAndBackoffAreUsed) {
  std::atomic<int> asked{0}, backoffs{0};
  CallOptions opts{.address = {kDead}, .retries = 3};
  opts.retry = [&](const Error& e, int) {
    ++asked;
    return DefaultRetry(e, 0);
  };
  opts.backoff = [&](int) {
    ++backoffs;
    return Duration::zero();
  };
  Status s = OpenAndEcho(opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 500);
  EXPECT_EQ(asked.load(), 4);     // every failed attempt, the last included
  EXPECT_EQ(backoffs.load(), 3);  // before each retry

  asked = 0;
  opts.retry = [&](const Error&, int) {
    ++asked;
    return false;  // never retry
  };
  EXPECT_FALSE(OpenAndEcho(opts).ok());
  EXPECT_EQ(asked.load(), 1);
}

// A backoff longer than the request timeout ends the opening with a 408 naming the last error.
TEST_F(StreamRetryTest, BackoffBoundedByRequestTimeout) {
  CallOptions opts{
      .address = {kDead}, .retries = 3, .request_timeout = std::chrono::milliseconds(50)};
  opts.backoff = [](int) { return Duration(std::chrono::seconds(10)); };
  Status s = OpenAndEcho(opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 408);
  EXPECT_NE(s.error().detail.find("connection error"), std::string::npos) << s.error();
}

// Through the selector: a failed opening marks the dead node, so later openings without retries
// go to the live one.
TEST_F(StreamRetryTest, FailedOpeningMarksTheNode) {
  registry::Service dead{.name = "streamer", .version = "latest"};
  dead.nodes.push_back(
      {.id = "streamer-dead", .address = kDead, .metadata = {{"protocol", "mucp"}}});
  ASSERT_TRUE(p_.registry->Register(dead).ok());
  auto sel = NewSelector({.registry = p_.registry, .strategy = selector::RoundRobin()});
  ASSERT_TRUE(sel.ok());
  auto client = NewClient({.transport = p_.transport, .selector = *sel});
  ASSERT_TRUE(client.ok());
  p_.client = *client;

  // Round robin starts each selection at a random node: open with retries until one opening
  // has tried the dead node (and so marked it).
  std::atomic<int> dead_tried{0};
  CallOptions retry{.retries = 2};
  retry.stream_wrappers.push_back([&](ClientStreamFunc next) {
    return [&dead_tried, next](Context& ctx, const registry::Node& node, const ClientRequest& req) {
      if (node.id == "streamer-dead") ++dead_tried;
      return next(ctx, node, req);
    };
  });
  for (int i = 0; i < 64 && dead_tried.load() == 0; ++i) ASSERT_TRUE(OpenAndEcho(retry).ok());
  ASSERT_EQ(dead_tried.load(), 1);
  CallOptions once{.retries = 0};
  for (int i = 0; i < 4; ++i) {
    Status s = OpenAndEcho(once);
    EXPECT_TRUE(s.ok()) << i << ": " << s.error();
  }
}

// Once the stream is open nothing is retried: a server that goes away mid-stream ends it.
TEST_F(StreamRetryTest, NoRetryAfterMessagesFlowed) {
  std::atomic<int> opened{0};
  CallOptions opts{.retries = 5};
  opts.stream_wrappers.push_back([&](ClientStreamFunc next) {
    return [&opened, next](Context& ctx, const registry::Node& node, const ClientRequest& req) {
      ++opened;
      return next(ctx, node, req);
    };
  });
  Context ctx;
  auto s = OpenStream<greeter::Request, greeter::Response>(*p_.client, ctx, "streamer",
                                                           "Streamer.Bidi", opts);
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Request req;
  req.set_name("a");
  ASSERT_TRUE(s->Send(req).ok());
  greeter::Response rsp;
  ASSERT_TRUE(s->Recv(rsp));
  ASSERT_TRUE(p_.server->Stop().ok());
  EXPECT_FALSE(s->Recv(rsp));
  EXPECT_FALSE(s->status().ok());
  EXPECT_EQ(opened.load(), 1);
}

}  // namespace
}  // namespace micro
