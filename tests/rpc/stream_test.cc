// Streaming in all three shapes over memory and HTTP, with EOS both ways and half-close.
#include <gtest/gtest.h>

#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using testing_util::RpcPair;
using Stream = TypedServerStream<greeter::Request, greeter::Response>;

greeter::Response Reply(std::string msg) {
  greeter::Response r;
  r.set_msg(std::move(msg));
  return r;
}

Handler Streamer() {
  Handler h{.name = "Streamer"};
  // Echoes every message until the client ends the stream.
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Bidi", StreamKind::kBidiStream, [](Context&, Stream& s) {
        greeter::Request req;
        while (s.Recv(req)) {
          if (Status st = s.Send(Reply("echo " + req.name())); !st) return st;
        }
        return s.status();
      }));
  // One request, three answers.
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Fan", StreamKind::kServerStream, [](Context&, Stream& s) {
        greeter::Request req;
        if (!s.Recv(req)) return s.status();
        for (int i = 0; i < 3; ++i) {
          if (Status st = s.Send(Reply(req.name() + std::to_string(i))); !st) return st;
        }
        return Status{};
      }));
  // Many requests, one answer with their count.
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Count", StreamKind::kClientStream, [](Context&, Stream& s) {
        greeter::Request req;
        int n = 0;
        while (s.Recv(req)) ++n;
        if (!s.status()) return s.status();
        return s.Send(Reply(std::to_string(n)));
      }));
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Fail", StreamKind::kServerStream, [](Context&, Stream& s) {
        (void)s.Send(Reply("partial"));
        return Status(errors::Forbidden("streamer", "no more"));
      }));
  return h;
}

class StreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    p_ = RpcPair::Make(GetParam(), {.name = "streamer"});
    ASSERT_TRUE(p_.server->Handle(Streamer()).ok());
    ASSERT_TRUE(p_.server->Start().ok());
  }
  Result<TypedClientStream<greeter::Request, greeter::Response>> Open(std::string endpoint) {
    return OpenStream<greeter::Request, greeter::Response>(*p_.client, ctx_, "streamer",
                                                           std::move(endpoint));
  }
  greeter::Request Named(std::string n) {
    greeter::Request r;
    r.set_name(std::move(n));
    return r;
  }
  RpcPair p_;
  Context ctx_;
};

TEST_P(StreamTest, BidirectionalWithHalfClose) {
  auto s = Open("Streamer.Bidi");
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Response rsp;
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(s->Send(Named(name)).ok());
    ASSERT_TRUE(s->Recv(rsp)) << s->status().error();
    EXPECT_EQ(rsp.msg(), std::string("echo ") + name);
  }
  ASSERT_TRUE(s->CloseSend().ok());  // EOS to the server: its Recv returns false, it returns
  EXPECT_FALSE(s->Recv(rsp));        // and its EOS ends ours
  EXPECT_TRUE(s->status().ok()) << s->status().error();
  EXPECT_TRUE(s->Close().ok());
}

TEST_P(StreamTest, ServerStreaming) {
  auto s = Open("Streamer.Fan");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->Send(Named("n")).ok());
  greeter::Response rsp;
  std::vector<std::string> got;
  while (s->Recv(rsp)) got.push_back(rsp.msg());
  EXPECT_TRUE(s->status().ok());
  EXPECT_EQ(got, (std::vector<std::string>{"n0", "n1", "n2"}));
}

TEST_P(StreamTest, ClientStreaming) {
  auto s = Open("Streamer.Count");
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->Send(Named("x")).ok());
  ASSERT_TRUE(s->CloseSend().ok());
  greeter::Response rsp;
  ASSERT_TRUE(s->Recv(rsp)) << s->status().error();
  EXPECT_EQ(rsp.msg(), "5");
  EXPECT_FALSE(s->Recv(rsp));
  EXPECT_TRUE(s->status().ok());
}

TEST_P(StreamTest, HandlerErrorEndsTheStreamWithIt) {
  auto s = Open("Streamer.Fail");
  ASSERT_TRUE(s.ok());
  greeter::Response rsp;
  ASSERT_TRUE(s->Recv(rsp));
  EXPECT_EQ(rsp.msg(), "partial");
  EXPECT_FALSE(s->Recv(rsp));
  ASSERT_FALSE(s->status().ok());
  EXPECT_EQ(s->status().error(), errors::Forbidden("streamer", "no more"));
}

TEST_P(StreamTest, UnknownStreamEndpoint) {
  auto s = Open("Streamer.Nope");
  ASSERT_TRUE(s.ok());
  greeter::Response rsp;
  EXPECT_FALSE(s->Recv(rsp));
  ASSERT_FALSE(s->status().ok());
  EXPECT_EQ(s->status().error().detail, "rpc: can't find method Nope");
}

// Tools without generated types (the CLI, the gateway) stream raw JSON frames.
TEST_P(StreamTest, JsonFramesBothWays) {
  codec::Frame opening{"{}"};
  ClientRequest req{"streamer", "Streamer.Bidi", "application/json", &opening};
  auto s = p_.client->Stream(ctx_, req);
  ASSERT_TRUE(s.ok()) << s.error();
  for (const char* name : {"a", "b"}) {
    codec::Frame out{fmt::format(R"({{"name":"{}"}})", name)};
    ASSERT_TRUE((*s)->SendFrame(out).ok());
    codec::Frame in;
    ASSERT_TRUE((*s)->RecvFrame(in)) << (*s)->status().error();
    EXPECT_EQ(in.data, fmt::format("{{\"msg\":\"echo {}\"}}\n",
                                   name));  // Go's json.Encoder ends with a newline
  }
  ASSERT_TRUE((*s)->CloseSend().ok());
  codec::Frame end;
  EXPECT_FALSE((*s)->RecvFrame(end));
  EXPECT_TRUE((*s)->status().ok()) << (*s)->status().error();
}

INSTANTIATE_TEST_SUITE_P(Transports, StreamTest, ::testing::Values("memory", "http"));

}  // namespace
}  // namespace micro
