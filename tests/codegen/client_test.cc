// Client side of the generated code: XService calls go through micro::Client with the service
// name, the "X.Method" endpoint, the request body and the options given.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <optional>
#include <type_traits>

#include "fakes.h"
#include "multi.micro.h"

namespace {

namespace ct = micro::codegen_test;
using micro::codegen_testing::FakeClientStream;
using micro::codegen_testing::MockClient;
using ::testing::_;
using ::testing::Return;

const ct::Request& BodyOf(const micro::ClientRequest& r) {
  auto* msg = std::get<const google::protobuf::Message*>(r.body);
  return dynamic_cast<const ct::Request&>(*msg);
}

void Reply(micro::codec::ReadBody rsp, const std::string& text) {
  auto* msg = std::get<google::protobuf::Message*>(rsp);
  dynamic_cast<ct::Response&>(*msg).set_text(text);
}

asio::awaitable<micro::Status> Ready(micro::Status s) { co_return s; }

class CodegenClient : public ::testing::Test {
 protected:
  std::shared_ptr<MockClient> client_ = std::make_shared<MockClient>();
  ct::EchoService echo_{"echo.service", client_};
};

TEST_F(CodegenClient, KeepsServiceNameAndClient) {
  EXPECT_EQ(echo_.service_name(), "echo.service");
  EXPECT_EQ(echo_.client().get(), client_.get());
}

TEST_F(CodegenClient, SyncCallSendsServiceEndpointAndBody) {
  micro::CallOptions seen;
  EXPECT_CALL(*client_, Call(_, _, _, _))
      .WillOnce([&](micro::Context&, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                    const micro::CallOptions& opts) {
        EXPECT_EQ(r.service, "echo.service");
        EXPECT_EQ(r.endpoint, "Echo.Call");
        EXPECT_EQ(r.content_type, "application/protobuf");
        EXPECT_EQ(BodyOf(r).text(), "ping");
        EXPECT_EQ(BodyOf(r).count(), 2);
        seen = opts;
        Reply(rsp, "pong");
        return micro::Status{};
      });
  ct::Request req;
  req.set_text("ping");
  req.set_count(2);
  micro::CallOptions opts;
  opts.retries = 1;
  opts.content_type = "application/protobuf";
  micro::Result<ct::Response> rsp = echo_.Call(req, opts);
  ASSERT_TRUE(rsp);
  EXPECT_EQ(rsp->text(), "pong");
  EXPECT_EQ(seen.retries, 1);
}

TEST_F(CodegenClient, SyncCallPassesTheCallersContext) {
  micro::Context ctx;
  ctx.metadata().Set("Authorization", "Bearer x");
  EXPECT_CALL(*client_, Call(_, _, _, _))
      .WillOnce([&](micro::Context& c, const micro::ClientRequest&, micro::codec::ReadBody,
                    const micro::CallOptions&) {
        EXPECT_EQ(&c, &ctx);
        EXPECT_EQ(c.metadata().GetOr("authorization"), "Bearer x");
        return micro::Status{};
      });
  EXPECT_TRUE(echo_.Call(ct::Request{}, ctx));
}

TEST_F(CodegenClient, SyncCallReturnsTheError) {
  EXPECT_CALL(*client_, Call(_, _, _, _))
      .WillOnce(Return(micro::Status(micro::errors::NotFound("go.micro.client", "none"))));
  micro::Result<ct::Response> rsp = echo_.Call(ct::Request{});
  ASSERT_FALSE(rsp);
  EXPECT_EQ(rsp.error().code, 404);
}

TEST_F(CodegenClient, OtherServiceUsesItsOwnHandlerName) {
  ct::StoreService store("store", client_);
  EXPECT_CALL(*client_, Call(_, _, _, _))
      .WillOnce([](micro::Context&, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                   const micro::CallOptions&) {
        EXPECT_EQ(r.service, "store");
        EXPECT_EQ(r.endpoint, "Store.Get");
        std::get<google::protobuf::Message*>(rsp)->CopyFrom([] {
          micro::codegen_other::Item item;
          item.set_id("i1");
          return item;
        }());
        return micro::Status{};
      });
  ct::Outer_Inner key;
  key.set_key("i1");
  micro::Result<micro::codegen_other::Item> item = store.Get(key);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->id(), "i1");
}

TEST_F(CodegenClient, AsyncCallOwnsRequestAndClient) {
  asio::io_context io;
  EXPECT_CALL(*client_, AsyncCall(_, _, _, _))
      .WillOnce([](micro::Context&, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                   const micro::CallOptions& opts) {
        EXPECT_EQ(r.service, "tmp.service");
        EXPECT_EQ(r.endpoint, "Echo.Call");
        EXPECT_EQ(opts.retries, 4);
        Reply(rsp, "async " + BodyOf(r).text());
        return Ready({});
      });
  // The service object and the request die before the coroutine runs.
  auto pending = [this] {
    ct::EchoService temporary("tmp.service", client_);
    ct::Request req;
    req.set_text("later");
    micro::CallOptions opts;
    opts.retries = 4;
    return temporary.AsyncCall(req, opts);
  }();
  std::optional<micro::Result<ct::Response>> got;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { got.emplace(co_await std::move(pending)); },
      asio::detached);
  io.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->text(), "async later");
}

TEST_F(CodegenClient, AsyncCallWithContextReturnsTheError) {
  asio::io_context io;
  EXPECT_CALL(*client_, AsyncCall(_, _, _, _))
      .WillOnce([](micro::Context& c, const micro::ClientRequest&, micro::codec::ReadBody,
                   const micro::CallOptions&) {
        EXPECT_EQ(c.metadata().GetOr("X-Trace"), "t1");
        return Ready(micro::errors::Timeout("go.micro.client", "request timeout"));
      });
  micro::Context ctx;
  ctx.metadata().Set("X-Trace", "t1");
  std::optional<micro::Result<ct::Response>> got;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> { got.emplace(co_await echo_.AsyncCall(ct::Request{}, ctx)); },
      asio::detached);
  io.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error().code, 408);
}

// The everyday form, awaited directly: no aggregate temporary in the co_await expression
// (see docs/codegen.md, GCC 12 pitfall); meant to be run under ASan.
TEST_F(CodegenClient, AsyncCallAwaitedDirectlyWithoutOptions) {
  asio::io_context io;
  EXPECT_CALL(*client_, AsyncCall(_, _, _, _))
      .Times(2)
      .WillRepeatedly([](micro::Context&, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                         const micro::CallOptions& opts) {
        EXPECT_FALSE(opts.retries.has_value());
        Reply(rsp, BodyOf(r).text());
        return Ready({});
      });
  std::string texts;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        ct::Request req;
        req.set_text("a");
        auto first = co_await echo_.AsyncCall(req);
        micro::Context ctx;
        req.set_text("b");
        auto second = co_await echo_.AsyncCall(req, ctx);
        if (first && second) texts = first->text() + second->text();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(texts, "ab");
}

// CallArgs contains the g++ 12 bug (an aggregate temporary in a co_await expression is
// destroyed twice): options must be named, so the dangerous form does not compile.
static_assert(std::is_constructible_v<micro::CallArgs, const micro::CallOptions&>);
static_assert(!std::is_constructible_v<micro::CallArgs, micro::CallOptions&&>);
static_assert(!std::is_constructible_v<micro::CallArgs, micro::Context&, micro::CallOptions&&>);
static_assert(std::is_constructible_v<micro::CallArgs, micro::Context&&>);  // no aggregate
static_assert(!std::is_aggregate_v<micro::CallArgs>);

// Context and named options together, awaited directly; meant to be run under ASan.
TEST_F(CodegenClient, AsyncCallWithContextAndOptionsAwaitedDirectly) {
  asio::io_context io;
  EXPECT_CALL(*client_, AsyncCall(_, _, _, _))
      .WillOnce([](micro::Context& c, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                   const micro::CallOptions& opts) {
        EXPECT_EQ(c.metadata().GetOr("X-Trace"), "t2");
        EXPECT_EQ(opts.retries, 3);
        Reply(rsp, BodyOf(r).text());
        return Ready({});
      });
  std::string text;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        micro::Context ctx;
        ctx.metadata().Set("X-Trace", "t2");
        micro::CallOptions opts{.retries = 3};
        ct::Request req;
        req.set_text("both");
        auto rsp = co_await echo_.AsyncCall(req, {ctx, opts});
        if (rsp) text = rsp->text();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(text, "both");
}

TEST_F(CodegenClient, CallbackFormRunsDoneOnTheClientsExecutor) {
  asio::io_context io;
  EXPECT_CALL(*client_, executor()).WillRepeatedly(Return(io.get_executor()));
  EXPECT_CALL(*client_, AsyncCall(_, _, _, _))
      .WillOnce([](micro::Context&, const micro::ClientRequest& r, micro::codec::ReadBody rsp,
                   const micro::CallOptions&) {
        Reply(rsp, "cb " + BodyOf(r).text());
        return Ready({});
      });
  ct::Request req;
  req.set_text("x");
  std::optional<micro::Result<ct::Response>> got;
  echo_.Call(req, [&](micro::Result<ct::Response> r) { got.emplace(std::move(r)); });
  EXPECT_FALSE(got.has_value());  // nothing runs until the executor does
  io.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->text(), "cb x");
}

TEST_F(CodegenClient, BidiStreamOpensWithEmptyPlaceholder) {
  auto log = std::make_shared<FakeClientStream::Log>();
  log->replies = {[] {
    ct::Response r;
    r.set_text("re: a");
    return r.SerializeAsString();
  }()};
  EXPECT_CALL(*client_, Stream(_, _, _))
      .WillOnce([&](micro::Context&, const micro::ClientRequest& r, const micro::CallOptions&) {
        EXPECT_EQ(r.service, "echo.service");
        EXPECT_EQ(r.endpoint, "Echo.Chat");
        EXPECT_EQ(BodyOf(r).ByteSizeLong(), 0u);  // go-micro servers discard it
        return micro::Result<std::unique_ptr<micro::ClientStream>>(
            std::unique_ptr<micro::ClientStream>(new FakeClientStream(log)));
      });
  auto stream = echo_.Chat();
  ASSERT_TRUE(stream);
  ct::Request a;
  a.set_text("a");
  ASSERT_TRUE(stream->Send(a));
  ct::Response rsp;
  ASSERT_TRUE(stream->Recv(rsp));
  EXPECT_EQ(rsp.text(), "re: a");
  EXPECT_FALSE(stream->Recv(rsp));
  EXPECT_TRUE(stream->CloseSend());
  EXPECT_TRUE(stream->Close());
  ASSERT_EQ(log->sent.size(), 1u);
  EXPECT_EQ(log->sent[0], a.SerializeAsString());
  EXPECT_TRUE(log->close_send);
  EXPECT_TRUE(log->closed);
}

TEST_F(CodegenClient, ClientStreamUsesItsEndpoint) {
  auto log = std::make_shared<FakeClientStream::Log>();
  micro::Context ctx;
  EXPECT_CALL(*client_, Stream(_, _, _))
      .WillOnce([&](micro::Context& c, const micro::ClientRequest& r, const micro::CallOptions&) {
        EXPECT_EQ(&c, &ctx);
        EXPECT_EQ(r.endpoint, "Echo.Upload");
        return micro::Result<std::unique_ptr<micro::ClientStream>>(
            std::unique_ptr<micro::ClientStream>(new FakeClientStream(log)));
      });
  auto stream = echo_.Upload(ctx);
  ASSERT_TRUE(stream);
}

TEST_F(CodegenClient, ServerStreamSendsTheRequestRightAfterOpening) {
  auto log = std::make_shared<FakeClientStream::Log>();
  EXPECT_CALL(*client_, Stream(_, _, _))
      .WillOnce([&](micro::Context&, const micro::ClientRequest& r, const micro::CallOptions&) {
        EXPECT_EQ(r.endpoint, "Echo.Watch");
        EXPECT_EQ(BodyOf(r).ByteSizeLong(), 0u);
        return micro::Result<std::unique_ptr<micro::ClientStream>>(
            std::unique_ptr<micro::ClientStream>(new FakeClientStream(log)));
      });
  ct::Request req;
  req.set_text("watch");
  req.set_count(0);  // present although zero: proto3 optional
  auto stream = echo_.Watch(req);
  ASSERT_TRUE(stream);
  ASSERT_EQ(log->sent.size(), 1u);
  ct::Request sent;
  ASSERT_TRUE(sent.ParseFromString(log->sent[0]));
  EXPECT_EQ(sent.text(), "watch");
  EXPECT_TRUE(sent.has_count());
  EXPECT_FALSE(log->closed);
}

TEST_F(CodegenClient, ServerStreamClosesWhenTheRequestCannotBeSent) {
  auto log = std::make_shared<FakeClientStream::Log>();
  log->send_status = micro::errors::InternalServerError("go.micro.client", "broken pipe");
  EXPECT_CALL(*client_, Stream(_, _, _))
      .WillOnce([&](micro::Context&, const micro::ClientRequest&, const micro::CallOptions&) {
        return micro::Result<std::unique_ptr<micro::ClientStream>>(
            std::unique_ptr<micro::ClientStream>(new FakeClientStream(log)));
      });
  auto stream = echo_.Watch(ct::Request{});
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().detail, "broken pipe");
  EXPECT_TRUE(log->closed);
}

TEST_F(CodegenClient, StreamOpenFailureIsReturned) {
  EXPECT_CALL(*client_, Stream(_, _, _))
      .WillOnce([](micro::Context&, const micro::ClientRequest&, const micro::CallOptions&) {
        return micro::Result<std::unique_ptr<micro::ClientStream>>(
            micro::errors::InternalServerError("go.micro.client", "no nodes"));
      });
  auto stream = echo_.Chat();
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().detail, "no nodes");
}

}  // namespace
