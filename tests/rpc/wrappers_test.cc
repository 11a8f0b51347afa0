// The wrapper chains beside HandlerWrapper / CallWrapper: client and server stream wrappers,
// subscriber wrappers, and whole-client wrappers (go-micro's StreamWrapper, WrapSubscriber,
// WrapClient). Order (first listed outermost), decoration, refusal.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "micro/broker.h"
#include "micro/service.h"
#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using testing_util::RpcPair;
using Stream = TypedServerStream<greeter::Request, greeter::Response>;

greeter::Request WrapNamed(std::string n) {
  greeter::Request r;
  r.set_name(std::move(n));
  return r;
}

// A client stream that counts and tags what goes through it.
class CountingClientStream final : public ClientStream {
 public:
  CountingClientStream(std::unique_ptr<ClientStream> inner, std::atomic<int>& sent,
                       std::atomic<int>& received)
      : inner_(std::move(inner)), sent_(sent), received_(received) {}
  Context& context() override { return inner_->context(); }
  Status SendMsg(const google::protobuf::Message& msg) override {
    ++sent_;
    return inner_->SendMsg(msg);
  }
  bool RecvMsg(google::protobuf::Message& msg) override {
    if (!inner_->RecvMsg(msg)) return false;
    ++received_;
    return true;
  }
  Status status() const override { return inner_->status(); }
  Status CloseSend() override { return inner_->CloseSend(); }
  Status Close() override { return inner_->Close(); }

 private:
  std::unique_ptr<ClientStream> inner_;
  std::atomic<int>& sent_;
  std::atomic<int>& received_;
};

// A server stream that prefixes every answer and counts what it receives.
class TaggingServerStream final : public ServerStream {
 public:
  TaggingServerStream(ServerStream& inner, std::atomic<int>& received)
      : inner_(inner), received_(received) {}
  Context& context() override { return inner_.context(); }
  Status SendMsg(const google::protobuf::Message& msg) override {
    greeter::Response tagged;
    tagged.CopyFrom(msg);
    tagged.set_msg("[tag] " + tagged.msg());
    return inner_.SendMsg(tagged);
  }
  bool RecvMsg(google::protobuf::Message& msg) override {
    if (!inner_.RecvMsg(msg)) return false;
    ++received_;
    return true;
  }
  Status status() const override { return inner_.status(); }

 private:
  ServerStream& inner_;
  std::atomic<int>& received_;
};

TEST(StreamWrapperTest, ClientWrappersRunInOrderAndDecorateTheStream) {
  RpcPair p = RpcPair::Make("http", {.name = "streamer"});
  ASSERT_TRUE(p.server->Handle(testing_util::EchoStreamHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());

  std::mutex mu;
  std::vector<std::string> order;
  auto named = [&](std::string name) -> ClientStreamWrapper {
    return [&, name](ClientStreamFunc next) -> ClientStreamFunc {
      return [&, name, next](Context& ctx, const registry::Node& node, const ClientRequest& req) {
        {
          std::lock_guard lock(mu);
          order.push_back(name + ":" + req.endpoint + "@" + node.address);
        }
        return next(ctx, node, req);
      };
    };
  };
  std::atomic<int> sent{0}, received{0};
  auto client = NewClient({.stream_wrappers = {named("outer"), named("inner")},
                           .transport = p.transport,
                           .selector = p.selector});
  ASSERT_TRUE(client.ok());
  CallOptions opts;
  opts.stream_wrappers.push_back([&](ClientStreamFunc next) -> ClientStreamFunc {
    return [&, next](Context& ctx, const registry::Node& node,
                     const ClientRequest& req) -> Result<std::unique_ptr<ClientStream>> {
      {
        std::lock_guard lock(mu);
        order.push_back("call");
      }
      auto s = next(ctx, node, req);
      if (!s) return s;
      return std::unique_ptr<ClientStream>(
          std::make_unique<CountingClientStream>(std::move(*s), sent, received));
    };
  });
  Context ctx;
  auto s = OpenStream<greeter::Request, greeter::Response>(**client, ctx, "streamer",
                                                           "Streamer.Bidi", opts);
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Response rsp;
  for (const char* n : {"a", "b"}) {
    ASSERT_TRUE(s->Send(WrapNamed(n)).ok());
    ASSERT_TRUE(s->Recv(rsp));
  }
  EXPECT_EQ(rsp.msg(), "echo b");
  ASSERT_TRUE(s->Close().ok());
  EXPECT_EQ(sent.load(), 2);
  EXPECT_EQ(received.load(), 2);
  const std::string at = "Streamer.Bidi@" + p.server->Address();
  EXPECT_EQ(order, (std::vector<std::string>{"outer:" + at, "inner:" + at, "call"}));
}

TEST(StreamWrapperTest, ClientWrapperRefusalEndsTheOpening) {
  RpcPair p = RpcPair::Make("http", {.name = "streamer"});
  ASSERT_TRUE(p.server->Handle(testing_util::EchoStreamHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  std::atomic<int> asked{0};
  CallOptions opts;
  opts.stream_wrappers.push_back([&](ClientStreamFunc) -> ClientStreamFunc {
    return [&](Context&, const registry::Node&,
               const ClientRequest&) -> Result<std::unique_ptr<ClientStream>> {
      ++asked;
      return errors::Forbidden("wrapper", "streams are off");
    };
  });
  Context ctx;
  auto s = OpenStream<greeter::Request, greeter::Response>(*p.client, ctx, "streamer",
                                                           "Streamer.Bidi", opts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 403);
  EXPECT_EQ(asked.load(), 1);  // a 403 is not retried
}

TEST(StreamWrapperTest, ServerWrappersRunInOrderAndDecorateTheStream) {
  std::mutex mu;
  std::vector<std::string> order;
  std::atomic<int> received{0};
  auto named = [&](std::string name) -> ServerStreamWrapper {
    return [&, name](ServerStreamFunc next) -> ServerStreamFunc {
      return [&, name, next](Context& ctx, const ServerStreamRequest& req, ServerStream& s) {
        {
          std::lock_guard lock(mu);
          order.push_back(name + ":" + std::string(req.service) + "/" + std::string(req.endpoint) +
                          ":" + std::string(req.header.GetOr("X-Who")));
        }
        return next(ctx, req, s);
      };
    };
  };
  ServerStreamWrapper tag = [&](ServerStreamFunc next) -> ServerStreamFunc {
    return [&, next](Context& ctx, const ServerStreamRequest& req, ServerStream& s) {
      TaggingServerStream tagged(s, received);
      return next(ctx, req, tagged);
    };
  };
  RpcPair p = RpcPair::Make(
      "http", {.name = "streamer", .stream_wrappers = {named("outer"), named("inner"), tag}});
  ASSERT_TRUE(p.server->Handle(testing_util::EchoStreamHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());

  Context ctx;
  ctx.metadata().Set("X-Who", "me");
  auto s =
      OpenStream<greeter::Request, greeter::Response>(*p.client, ctx, "streamer", "Streamer.Bidi");
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Response rsp;
  ASSERT_TRUE(s->Send(WrapNamed("a")).ok());
  ASSERT_TRUE(s->Recv(rsp)) << s->status().error();
  EXPECT_EQ(rsp.msg(), "[tag] echo a");
  ASSERT_TRUE(s->CloseSend().ok());
  EXPECT_FALSE(s->Recv(rsp));
  EXPECT_TRUE(s->status().ok()) << s->status().error();
  EXPECT_EQ(received.load(), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"outer:streamer/Streamer.Bidi:me",
                                             "inner:streamer/Streamer.Bidi:me"}));
}

TEST(StreamWrapperTest, ServerWrapperRefusalReachesTheClient) {
  std::atomic<bool> handler_ran{false};
  ServerStreamWrapper deny = [](ServerStreamFunc) -> ServerStreamFunc {
    return [](Context&, const ServerStreamRequest&, ServerStream&) {
      return Status(errors::Unauthorized("streamer", "no token"));
    };
  };
  RpcPair p = RpcPair::Make("http", {.name = "streamer", .stream_wrappers = {deny}});
  Handler h = testing_util::EchoStreamHandler();
  h.endpoints[0].sync_stream = [&](Context&, ServerStream&) {
    handler_ran = true;
    return Status{};
  };
  ASSERT_TRUE(p.server->Handle(std::move(h)).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  auto s =
      OpenStream<greeter::Request, greeter::Response>(*p.client, ctx, "streamer", "Streamer.Bidi");
  ASSERT_TRUE(s.ok()) << s.error();
  greeter::Response rsp;
  EXPECT_FALSE(s->Recv(rsp));
  ASSERT_FALSE(s->status().ok());
  EXPECT_EQ(s->status().error().code, 401);
  EXPECT_EQ(s->status().error().detail, "no token");
  EXPECT_FALSE(handler_ran.load());
}

TEST(SubscriberWrapperTest, WrappersSeeEveryMessageInOrderAndMayDropIt) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto named = [&](std::string name) -> SubscriberWrapper {
    return [&, name](SubscriberFunc next) -> SubscriberFunc {
      return [&, name, next](Context& ctx, const SubscriberMessage& m) {
        const auto& req = static_cast<const greeter::Request&>(m.body);
        {
          std::lock_guard lock(mu);
          seen.push_back(name + ":" + std::string(m.topic) + ":" + req.name() + ":" +
                         std::string(m.content_type));
        }
        if (req.name() == "drop") return Status(errors::Forbidden("wrapper", "dropped"));
        return next(ctx, m);
      };
    };
  };
  ServerOptions so{.name = "subs", .subscriber_wrappers = {named("outer"), named("inner")}};
  so.broker = *NewMemoryBroker();
  RpcPair p = RpcPair::Make("http", so);
  std::vector<std::string> handled;
  ASSERT_TRUE(Subscribe<greeter::Request>(*p.server, "events",
                                          [&](Context&, const greeter::Request& r) {
                                            std::lock_guard lock(mu);
                                            handled.push_back(r.name());
                                            return Status{};
                                          },
                                          {})
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());
  ClientOptions co{.broker = so.broker};
  RpcPair q = RpcPair::Make("http", {}, co);
  for (const char* n : {"keep", "drop"}) {
    Context ctx;
    (void)Publish(*q.client, ctx, "events", WrapNamed(n), {.content_type = "application/json"});
  }
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(mu);
      if (seen.size() >= 3) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(p.server->Stop().ok());
  std::lock_guard lock(mu);
  // Per message in order; the two messages may be delivered in either order.
  std::vector<std::string> keep, drop;
  for (const auto& s : seen) (s.find(":keep:") != std::string::npos ? keep : drop).push_back(s);
  EXPECT_EQ(keep, (std::vector<std::string>{"outer:events:keep:application/json",
                                            "inner:events:keep:application/json"}));
  EXPECT_EQ(drop, (std::vector<std::string>{"outer:events:drop:application/json"}));
  EXPECT_EQ(handled, (std::vector<std::string>{"keep"}));
}

// A ForwardingClient counting calls, installed with ServiceOptions::wrap_client.
class CountingClient final : public ForwardingClient {
 public:
  CountingClient(std::shared_ptr<Client> inner, std::string name, std::vector<std::string>& log)
      : ForwardingClient(std::move(inner)), name_(std::move(name)), log_(log) {}
  Status Call(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
              const CallOptions& opts) override {
    log_.push_back(name_ + ":" + req.endpoint);
    ctx.metadata().Set("X-Wrapped-By", name_);
    return ForwardingClient::Call(ctx, req, rsp, opts);
  }

 private:
  std::string name_;
  std::vector<std::string>& log_;
};

TEST(ClientDecoratorTest, WrapClientWrapsTheServiceClientFirstListedOutermost) {
  RpcPair p = RpcPair::Make("http");
  std::string header_seen;
  ASSERT_TRUE(p.server
                  ->Handle(testing_util::GreeterHandler([&](Context& ctx, const greeter::Request&) {
                    header_seen = ctx.metadata().GetOr("X-Wrapped-By");
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());

  std::vector<std::string> log;
  auto wrap = [&](std::string name) -> ClientDecorator {
    return [&, name](std::shared_ptr<Client> inner) {
      return std::make_shared<CountingClient>(std::move(inner), name, log);
    };
  };
  Service svc({.registry = "memory",
               .wrap_client = {wrap("outer"), wrap("inner")},
               .handle_signals = false});
  ASSERT_TRUE(svc.Init(std::vector<std::string>{},
                       [](const std::string&) { return std::optional<std::string>(); })
                  .ok());
  greeter::Request req = WrapNamed("w");
  Context ctx;
  auto rsp = Call<greeter::Response>(*svc.Client(), ctx, "greeter", "Greeter.Hello", req,
                                     {.address = {p.server->Address()}, .retries = 0});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(header_seen, "inner");  // the innermost wrapper set it last
  EXPECT_EQ(log, (std::vector<std::string>{"outer:Greeter.Hello", "inner:Greeter.Hello"}));
  EXPECT_NE(dynamic_cast<CountingClient*>(svc.Client().get()), nullptr);
}

}  // namespace
}  // namespace micro
