// A server and a client talking over NATS only: the nats transport carries the calls and the
// nats registry finds the server. Unary calls in several codecs, concurrency, a bidirectional
// stream, and calls resuming after a nats-server restart.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "micro/nats/nats.h"
#include "nats_env.h"
#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using nats_test::Nats;
using testing_util::GreeterHandler;

greeter::Request Named(std::string name) {
  greeter::Request r;
  r.set_name(std::move(name));
  return r;
}

class NatsRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = nats_test::SkipReason(); !why.empty()) GTEST_SKIP() << why;
    transport_ = *nats::NewTransport({.addrs = {Nats().address()}});
    registry_ = *nats::NewRegistry({.addrs = {Nats().address()}});
    auto server = NewServer(
        {.name = service_, .address = ":0", .transport = transport_, .registry = registry_});
    ASSERT_TRUE(server.ok()) << server.error();
    server_ = *server;
    Handler echo{.name = "Echo"};
    echo.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
        "Echo.Bidi", StreamKind::kBidiStream,
        [](Context&, TypedServerStream<greeter::Request, greeter::Response>& s) {
          greeter::Request req;
          while (s.Recv(req)) {
            greeter::Response rsp;
            rsp.set_msg("echo " + req.name());
            if (Status st = s.Send(rsp); !st) return st;
          }
          return s.status();
        }));
    ASSERT_TRUE(server_->Handle(GreeterHandler()).ok());
    ASSERT_TRUE(server_->Handle(std::move(echo)).ok());
    ASSERT_TRUE(server_->Start().ok());
    auto selector = NewSelector({.registry = registry_});
    ASSERT_TRUE(selector.ok());
    auto client = NewClient({.transport = transport_, .selector = *selector});
    ASSERT_TRUE(client.ok());
    client_ = *client;
  }
  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(server_->Stop().ok());
    }
  }

  const std::string service_ = "greeter-nats-" + std::to_string(getpid());
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Server> server_;
  std::shared_ptr<Client> client_;
};

TEST_F(NatsRpcTest, UnaryCallsFoundThroughTheNatsRegistry) {
  auto found = registry_->GetService(service_);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(found->front().nodes.front().address.rfind("_INBOX.", 0), 0u);
  Context ctx;
  for (const char* ct : {"application/json", "application/protobuf", "application/grpc+proto"}) {
    auto rsp = Call<greeter::Response>(*client_, ctx, service_, "Greeter.Hello", Named("John"),
                                       {.content_type = ct});
    ASSERT_TRUE(rsp.ok()) << ct << " " << rsp.error();
    EXPECT_EQ(rsp->msg(), "Hello John");
  }
}

TEST_F(NatsRpcTest, ConcurrentCalls) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        Context ctx;
        const std::string name = std::to_string(t * 100 + i);
        auto rsp = Call<greeter::Response>(*client_, ctx, service_, "Greeter.Hello", Named(name));
        if (rsp.ok() && rsp->msg() == "Hello " + name) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 400);
}

TEST_F(NatsRpcTest, BidirectionalStream) {
  Context ctx;
  auto s = OpenStream<greeter::Request, greeter::Response>(*client_, ctx, service_, "Echo.Bidi");
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Response rsp;
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(s->Send(Named(name)).ok());
    ASSERT_TRUE(s->Recv(rsp)) << s->status().error();
    EXPECT_EQ(rsp.msg(), std::string("echo ") + name);
  }
  ASSERT_TRUE(s->CloseSend().ok());
  EXPECT_FALSE(s->Recv(rsp));
  EXPECT_TRUE(s->status().ok()) << s->status().error();
  EXPECT_TRUE(s->Close().ok());
}

TEST_F(NatsRpcTest, CallsResumeAfterServerRestart) {
  Context ctx;
  ASSERT_TRUE(
      Call<greeter::Response>(*client_, ctx, service_, "Greeter.Hello", Named("before")).ok());
  Nats().Stop();
  ASSERT_TRUE(Nats().Start()) << Nats().process().Log();
  Result<greeter::Response> rsp = errors::InternalServerError("test", "not called");
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    Context c = Context::WithTimeout(2s);
    rsp = Call<greeter::Response>(*client_, c, service_, "Greeter.Hello", Named("after"));
    if (rsp.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello after");
}

}  // namespace
}  // namespace micro
