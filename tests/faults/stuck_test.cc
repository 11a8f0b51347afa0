// Slow and stuck handlers (issue 16): a handler that never returns costs its caller only its
// deadline (408), a handler that honours its context frees its server slot at the deadline,
// and open streams that never send do not starve unary calls. In-process server and client
// over the real HTTP transport on loopback; light enough for every preset.
#include <gtest/gtest.h>

#include <future>

#include "rpc/rpc_test_util.h"

namespace faults {
namespace {

using namespace std::chrono_literals;
using micro::CallOptions;
using micro::Context;
using micro::Status;
using micro::testing_util::RpcPair;

class StuckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    micro::ServerOptions so;
    so.name = "stuck";
    so.handler_threads = 4;
    so.max_in_flight = 2;  // two unary calls at a time: a leaked slot shows as a 503
    so.drain_timeout = 100ms;
    p_ = RpcPair::Make("http", so);
    auto released = release_.get_future().share();
    ASSERT_TRUE(p_.server
                    ->Handle(micro::testing_util::GreeterHandler(
                        [released](Context& ctx, const greeter::Request& req) -> Status {
                          if (req.name() == "hang") released.wait();  // ignores its context
                          if (req.name() == "slow") {
                            while (!ctx.Done()) std::this_thread::sleep_for(5ms);
                            return micro::errors::Timeout("stuck", "gave up at the deadline");
                          }
                          return {};
                        }))
                    .ok());
    ASSERT_TRUE(p_.server->Handle(Streams()).ok());
    ASSERT_TRUE(p_.server->Start().ok());
  }
  void TearDown() override {
    release_.set_value();
    if (p_.server) (void)p_.server->Stop();
  }

  static micro::Handler Streams() {
    micro::Handler h{.name = "Streamer"};
    h.endpoints.push_back(micro::StreamEndpoint<greeter::Request, greeter::Response>(
        "Streamer.Bidi", micro::StreamKind::kBidiStream,
        [](Context&, micro::TypedServerStream<greeter::Request, greeter::Response>& s) {
          greeter::Request req;
          while (s.Recv(req)) {
          }
          return s.status();
        }));
    return h;
  }

  Status Hello(const std::string& name, CallOptions opts) {
    greeter::Request req;
    req.set_name(name);
    Context ctx;
    auto r = micro::Call<greeter::Response>(*p_.client, ctx, "stuck", "Greeter.Hello", req, opts);
    return r ? Status{} : Status(r.error());
  }

  RpcPair p_;
  std::promise<void> release_;
};

// A handler that never returns: the caller gets its 408 at the deadline and its connection is
// not reused; the server goes on answering on its other handler threads.
TEST_F(StuckTest, NeverReturningHandlerEndsAtTheCallersDeadline) {
  CallOptions deadline{.retries = 0, .request_timeout = 300ms};
  Status s = Hello("hang", deadline);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 408) << s.error();
  // One slot of two is held by the stuck handler; calls still go through the other.
  for (int i = 0; i < 20; ++i) {
    Status ok = Hello("ok", {.retries = 0});
    EXPECT_TRUE(ok.ok()) << ok.error();
  }
}

// A slow handler that watches its context: the server's deadline (from the caller's Timeout)
// ends it, and its load-shedding slot is free again for the next calls.
TEST_F(StuckTest, SlowHandlerFreesItsSlotAtTheDeadline) {
  CallOptions deadline{.retries = 0, .request_timeout = 200ms};
  for (int i = 0; i < 2; ++i) {
    Status s = Hello("slow", deadline);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, 408) << s.error();
  }
  // Both slots come back once the handlers see their deadline (a few ms after the caller's).
  Status ok;
  for (int i = 0; i < 200; ++i) {
    ok = Hello("ok", {.retries = 0});
    if (ok) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(ok.ok()) << ok.error();
  for (int i = 0; i < 20; ++i) {
    Status again = Hello("ok", {.retries = 0});
    EXPECT_TRUE(again.ok()) << again.error();
  }
}

// 64 open streams whose clients never send hold no handler thread that unary calls need
// (4 handler threads here).
TEST_F(StuckTest, IdleStreamsDoNotStarveUnaryCalls) {
  std::vector<std::unique_ptr<micro::ClientStream>> streams;
  for (int i = 0; i < 64; ++i) {
    greeter::Request open;
    open.set_name("open");
    micro::ClientRequest req{"stuck", "Streamer.Bidi", "", &open};
    Context ctx;
    auto s = p_.client->Stream(ctx, req);
    ASSERT_TRUE(s.ok()) << s.error();
    streams.push_back(std::move(*s));
  }
  for (int i = 0; i < 50; ++i) {
    Status ok = Hello("ok", {.retries = 0, .request_timeout = 5s});
    ASSERT_TRUE(ok.ok()) << ok.error();
  }
  for (auto& s : streams) (void)s->Close();
}

}  // namespace
}  // namespace faults
