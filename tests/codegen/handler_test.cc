// Server side of the generated code: NewXHandler / RegisterXHandler build the right
// micro::Handler, and its endpoints reach the user's handler.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>

#include "fakes.h"
#include "greeter.micro.h"
#include "multi.micro.h"

namespace {

namespace ct = micro::codegen_test;
using micro::codegen_testing::FakeServer;
using micro::codegen_testing::FakeServerStream;

std::string Serialized(const std::string& text) {
  ct::Request r;
  r.set_text(text);
  return r.SerializeAsString();
}

std::string TextOf(const std::string& serialized_response) {
  ct::Response r;
  EXPECT_TRUE(r.ParseFromString(serialized_response));
  return r.text();
}

class EchoImpl : public ct::EchoHandler {
 public:
  micro::Status Call(micro::Context& ctx, const ct::Request& req, ct::Response& rsp) override {
    if (req.text() == "fail") return micro::errors::BadRequest("echo", "told to fail");
    rsp.set_text("echo " + req.text());
    if (req.has_count()) rsp.set_note("count " + std::to_string(req.count()));
    if (auto v = ctx.metadata().Get("X-Test")) rsp.set_note(std::string(*v));
    return {};
  }
  micro::Status Upload(micro::Context&,
                       micro::TypedServerStream<ct::Request, ct::Response>& stream) override {
    std::string all;
    ct::Request req;
    while (stream.Recv(req)) all += req.text();
    ct::Response rsp;
    rsp.set_text(all);
    return stream.Send(rsp);
  }
  micro::Status Watch(micro::Context&, const ct::Request& req,
                      micro::TypedServerStream<ct::Request, ct::Response>& stream) override {
    for (int i = 0; i < req.count(); ++i) {
      ct::Response rsp;
      rsp.set_text(req.text() + std::to_string(i));
      if (micro::Status s = stream.Send(rsp); !s) return s;
    }
    return {};
  }
  micro::Status Chat(micro::Context&,
                     micro::TypedServerStream<ct::Request, ct::Response>& stream) override {
    ct::Request req;
    while (stream.Recv(req)) {
      ct::Response rsp;
      rsp.set_text("re: " + req.text());
      if (micro::Status s = stream.Send(rsp); !s) return s;
    }
    return stream.status();
  }
};

class AsyncEchoImpl : public ct::EchoAsyncHandler {
 public:
  asio::awaitable<micro::Status> Call(micro::Context&, const ct::Request& req,
                                      ct::Response& rsp) override {
    rsp.set_text("async " + req.text());
    co_return micro::Status{};
  }
  micro::Status Upload(micro::Context&,
                       micro::TypedServerStream<ct::Request, ct::Response>&) override {
    return {};
  }
  micro::Status Watch(micro::Context&, const ct::Request&,
                      micro::TypedServerStream<ct::Request, ct::Response>&) override {
    return {};
  }
  micro::Status Chat(micro::Context&,
                     micro::TypedServerStream<ct::Request, ct::Response>&) override {
    return {};
  }
};

const micro::Endpoint* Find(const micro::Handler& h, std::string_view name) {
  for (const micro::Endpoint& e : h.endpoints) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST(CodegenNames, EndpointConstantsAreGoMicroNames) {
  EXPECT_EQ(ct::kEchoHandlerName, "Echo");
  EXPECT_EQ(ct::kEchoCallEndpoint, "Echo.Call");
  EXPECT_EQ(ct::kEchoUploadEndpoint, "Echo.Upload");
  EXPECT_EQ(ct::kEchoWatchEndpoint, "Echo.Watch");
  EXPECT_EQ(ct::kEchoChatEndpoint, "Echo.Chat");
  EXPECT_EQ(ct::kStoreGetEndpoint, "Store.Get");
  EXPECT_EQ(ct::kNothingHandlerName, "Nothing");
  EXPECT_EQ(greeter::kGreeterHelloEndpoint, "Greeter.Hello");
  EXPECT_EQ(greeter::kGreeterStreamEndpoint, "Greeter.Stream");
}

TEST(CodegenRegister, RecordsHandlerWithEndpointsKindsAndDescriptors) {
  FakeServer server;
  ASSERT_TRUE(ct::RegisterEchoHandler(server, std::make_shared<EchoImpl>()));
  ASSERT_EQ(server.handlers.size(), 1u);
  const micro::Handler& h = server.handlers[0];
  EXPECT_EQ(h.name, "Echo");
  EXPECT_FALSE(h.internal);
  ASSERT_EQ(h.endpoints.size(), 4u);

  struct Want {
    const char* name;
    micro::StreamKind kind;
  };
  const Want want[] = {{"Echo.Call", micro::StreamKind::kUnary},
                       {"Echo.Upload", micro::StreamKind::kClientStream},
                       {"Echo.Watch", micro::StreamKind::kServerStream},
                       {"Echo.Chat", micro::StreamKind::kBidiStream}};
  for (std::size_t i = 0; i < 4; ++i) {
    const micro::Endpoint& e = h.endpoints[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(e.name, want[i].name);  // declaration order is kept
    EXPECT_EQ(e.kind, want[i].kind);
    EXPECT_EQ(e.request, ct::Request::descriptor());
    EXPECT_EQ(e.response, ct::Response::descriptor());
    const bool unary = want[i].kind == micro::StreamKind::kUnary;
    EXPECT_EQ(static_cast<bool>(e.sync_unary), unary);
    EXPECT_FALSE(e.async_unary);
    EXPECT_EQ(static_cast<bool>(e.sync_stream), !unary);
    if (unary) {
      EXPECT_TRUE(e.metadata.empty());
    } else {
      EXPECT_EQ(e.metadata, (std::map<std::string, std::string>{{"stream", "true"}}));
    }
  }
}

TEST(CodegenRegister, OtherPackageAndNestedMessageDescriptors) {
  struct StoreImpl : ct::StoreHandler {
    micro::Status Get(micro::Context&, const ct::Outer_Inner& req,
                      micro::codegen_other::Item& rsp) override {
      rsp.set_id(req.key());
      rsp.set_version(7);
      return {};
    }
    micro::Status Put(micro::Context&, const micro::codegen_other::Item& req,
                      ct::Outer& rsp) override {
      rsp.mutable_inner()->set_key(req.id());
      return {};
    }
    micro::Status delete_(micro::Context&, const ct::Outer_Inner& req, ct::Outer& rsp) override {
      rsp.mutable_inner()->set_key("deleted " + req.key());
      return {};
    }
  };
  micro::Handler h = ct::NewStoreHandler(std::make_shared<StoreImpl>());
  EXPECT_EQ(h.name, "Store");
  const micro::Endpoint* get = Find(h, "Store.Get");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->request, ct::Outer_Inner::descriptor());
  EXPECT_EQ(get->response, micro::codegen_other::Item::descriptor());
  EXPECT_EQ(get->request->full_name(), "micro.codegen_test.Outer.Inner");

  EXPECT_EQ(ct::kStoredelete_Endpoint, "Store.delete");
  const micro::Endpoint* del = Find(h, "Store.delete");
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->response, ct::Outer::descriptor());

  ct::Outer_Inner req;
  req.set_key("k1");
  micro::codegen_other::Item rsp;
  micro::Context ctx;
  ASSERT_TRUE(get->sync_unary(ctx, req, rsp));
  EXPECT_EQ(rsp.id(), "k1");
  EXPECT_EQ(rsp.version(), 7);
}

TEST(CodegenRegister, ServiceWithoutMethodsHasNoEndpoints) {
  struct NothingImpl : ct::NothingHandler {};
  micro::Handler h = ct::NewNothingHandler(std::make_shared<NothingImpl>());
  EXPECT_EQ(h.name, "Nothing");
  EXPECT_TRUE(h.endpoints.empty());
}

TEST(CodegenRegister, OptionsSetInternalAndEndpointMetadata) {
  FakeServer server;
  micro::HandlerOptions opts;
  opts.internal = true;
  opts.endpoint_metadata["Echo.Call"] = {{"auth", "required"}};
  opts.endpoint_metadata["Echo.Chat"] = {{"stream", "yes"}, {"x", "y"}};
  ASSERT_TRUE(ct::RegisterEchoHandler(server, std::make_shared<EchoImpl>(), opts));
  const micro::Handler& h = server.handlers.at(0);
  EXPECT_TRUE(h.internal);
  EXPECT_EQ(Find(h, "Echo.Call")->metadata,
            (std::map<std::string, std::string>{{"auth", "required"}}));
  EXPECT_EQ(Find(h, "Echo.Chat")->metadata,
            (std::map<std::string, std::string>{{"stream", "yes"}, {"x", "y"}}));
  EXPECT_EQ(Find(h, "Echo.Watch")->metadata,
            (std::map<std::string, std::string>{{"stream", "true"}}));
}

TEST(CodegenRegister, NullHandlerAndDuplicateNameFail) {
  FakeServer server;
  micro::Status null_status = ct::RegisterEchoHandler(server, std::shared_ptr<ct::EchoHandler>());
  ASSERT_FALSE(null_status);
  EXPECT_EQ(null_status.error().code, 400);
  EXPECT_TRUE(server.handlers.empty());

  ASSERT_TRUE(ct::RegisterEchoHandler(server, std::make_shared<EchoImpl>()));
  micro::Status again = ct::RegisterEchoHandler(server, std::make_shared<AsyncEchoImpl>());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 409);
}

TEST(CodegenEndpoints, SyncUnaryReachesHandler) {
  micro::Handler h = ct::NewEchoHandler(std::make_shared<EchoImpl>());
  const micro::Endpoint* e = Find(h, "Echo.Call");
  ASSERT_NE(e, nullptr);

  ct::Request req;
  req.set_text("hi");
  req.set_count(3);  // proto3 optional
  ct::Response rsp;
  micro::Context ctx;
  ASSERT_TRUE(e->sync_unary(ctx, req, rsp));
  EXPECT_EQ(rsp.text(), "echo hi");
  ASSERT_TRUE(rsp.has_note());
  EXPECT_EQ(rsp.note(), "count 3");

  ctx.metadata().Set("X-Test", "from metadata");
  ASSERT_TRUE(e->sync_unary(ctx, req, rsp));
  EXPECT_EQ(rsp.note(), "from metadata");

  req.set_text("fail");
  micro::Status s = e->sync_unary(ctx, req, rsp);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, 400);
  EXPECT_EQ(s.error().detail, "told to fail");
}

TEST(CodegenEndpoints, AsyncUnaryRunsTheCoroutine) {
  FakeServer server;
  ASSERT_TRUE(ct::RegisterEchoHandler(server, std::make_shared<AsyncEchoImpl>()));
  const micro::Endpoint* e = Find(server.handlers.at(0), "Echo.Call");
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->async_unary);
  EXPECT_FALSE(e->sync_unary);
  EXPECT_TRUE(Find(server.handlers.at(0), "Echo.Chat")->sync_stream);

  asio::io_context io;
  ct::Request req;
  req.set_text("x");
  ct::Response rsp;
  micro::Context ctx;
  auto done = asio::co_spawn(io, e->async_unary(ctx, req, rsp), asio::use_future);
  io.run();
  EXPECT_TRUE(done.get());
  EXPECT_EQ(rsp.text(), "async x");
}

TEST(CodegenEndpoints, ClientStreamReceivesAllThenReplies) {
  micro::Handler h = ct::NewEchoHandler(std::make_shared<EchoImpl>());
  FakeServerStream stream;
  stream.incoming = {Serialized("a"), Serialized("b"), Serialized("c")};
  micro::Context ctx;
  ASSERT_TRUE(Find(h, "Echo.Upload")->sync_stream(ctx, stream));
  ASSERT_EQ(stream.sent.size(), 1u);
  EXPECT_EQ(TextOf(stream.sent[0]), "abc");
}

TEST(CodegenEndpoints, ServerStreamGetsTheFirstMessageAsRequest) {
  micro::Handler h = ct::NewEchoHandler(std::make_shared<EchoImpl>());
  FakeServerStream stream;
  ct::Request req;
  req.set_text("n");
  req.set_count(3);
  stream.incoming = {req.SerializeAsString()};
  micro::Context ctx;
  ASSERT_TRUE(Find(h, "Echo.Watch")->sync_stream(ctx, stream));
  ASSERT_EQ(stream.sent.size(), 3u);
  EXPECT_EQ(TextOf(stream.sent[0]), "n0");
  EXPECT_EQ(TextOf(stream.sent[2]), "n2");
}

TEST(CodegenEndpoints, ServerStreamWithoutRequestFails) {
  micro::Handler h = ct::NewEchoHandler(std::make_shared<EchoImpl>());
  micro::Context ctx;
  FakeServerStream clean_end;
  micro::Status s = Find(h, "Echo.Watch")->sync_stream(ctx, clean_end);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, 400);
  EXPECT_EQ(s.error().id, "Echo.Watch");

  FakeServerStream broken;
  broken.end_status = micro::errors::InternalServerError("test", "connection lost");
  s = Find(h, "Echo.Watch")->sync_stream(ctx, broken);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().detail, "connection lost");
  EXPECT_TRUE(broken.sent.empty());
}

TEST(CodegenEndpoints, BidiStreamEchoes) {
  micro::Handler h = ct::NewEchoHandler(std::make_shared<EchoImpl>());
  FakeServerStream stream;
  stream.incoming = {Serialized("1"), Serialized("2")};
  micro::Context ctx;
  ASSERT_TRUE(Find(h, "Echo.Chat")->sync_stream(ctx, stream));
  ASSERT_EQ(stream.sent.size(), 2u);
  EXPECT_EQ(TextOf(stream.sent[0]), "re: 1");
  EXPECT_EQ(TextOf(stream.sent[1]), "re: 2");
}

TEST(CodegenGreeter, RegistersHelloAndBidiStream) {
  struct Greeter : greeter::GreeterHandler {
    micro::Status Hello(micro::Context&, const greeter::Request& req,
                        greeter::Response& rsp) override {
      rsp.set_msg("Hello " + req.name());
      return {};
    }
    micro::Status Stream(
        micro::Context&,
        micro::TypedServerStream<greeter::Request, greeter::Response>& stream) override {
      greeter::Request req;
      while (stream.Recv(req)) {
        greeter::Response rsp;
        rsp.set_msg("Hello " + req.name());
        if (micro::Status s = stream.Send(rsp); !s) return s;
      }
      return {};
    }
  };
  FakeServer server;
  ASSERT_TRUE(greeter::RegisterGreeterHandler(server, std::make_shared<Greeter>()));
  const micro::Handler& h = server.handlers.at(0);
  EXPECT_EQ(h.name, "Greeter");
  ASSERT_EQ(h.endpoints.size(), 2u);
  EXPECT_EQ(h.endpoints[0].name, "Greeter.Hello");
  EXPECT_EQ(h.endpoints[0].request->full_name(), "greeter.Request");
  EXPECT_EQ(h.endpoints[1].name, "Greeter.Stream");
  EXPECT_EQ(h.endpoints[1].kind, micro::StreamKind::kBidiStream);

  greeter::Request req;
  req.set_name("John");
  greeter::Response rsp;
  micro::Context ctx;
  ASSERT_TRUE(h.endpoints[0].sync_unary(ctx, req, rsp));
  EXPECT_EQ(rsp.msg(), "Hello John");
}

}  // namespace
