// The generated gmock mocks (multi.micro.mock.h): MockEchoService stands in for the typed
// client, MockEchoHandler for a handler.
#include <gtest/gtest.h>

#include "fakes.h"
#include "multi.micro.mock.h"

namespace {

namespace ct = micro::codegen_test;
using ::testing::_;
using ::testing::ByMove;
using ::testing::Return;

// Code under test takes the generated client by reference.
std::string Shout(ct::EchoService& echo, const std::string& text) {
  ct::Request req;
  req.set_text(text);
  micro::Result<ct::Response> rsp = echo.Call(req);
  return rsp ? rsp->text() + "!" : "error " + std::to_string(rsp.error().code);
}

ct::Response ResponseWith(const std::string& text) {
  ct::Response r;
  r.set_text(text);
  return r;
}

TEST(CodegenMock, MockServiceAnswersSyncCalls) {
  ct::MockEchoService mock;
  EXPECT_CALL(mock, Call(::testing::Property(&ct::Request::text, "hi"), _))
      .WillOnce(Return(micro::Result<ct::Response>(ResponseWith("HI"))))
      .WillOnce(Return(micro::Result<ct::Response>(micro::errors::NotFound("x", "gone"))));
  EXPECT_EQ(Shout(mock, "hi"), "HI!");
  EXPECT_EQ(Shout(mock, "hi"), "error 404");
}

TEST(CodegenMock, MockServiceContextOverload) {
  ct::MockEchoService mock("echo");
  EXPECT_EQ(mock.service_name(), "echo");
  micro::Context ctx;
  EXPECT_CALL(
      mock,
      Call(_, ::testing::Truly([&](const micro::CallArgs& a) { return a.context() == &ctx; })))
      .WillOnce(Return(micro::Result<ct::Response>(ResponseWith("ctx"))));
  ct::EchoService& echo = mock;
  auto rsp = echo.Call(ct::Request{}, ctx);
  ASSERT_TRUE(rsp);
  EXPECT_EQ(rsp->text(), "ctx");
}

TEST(CodegenMock, MockServiceStreams) {
  ct::MockEchoService mock;
  EXPECT_CALL(mock, Chat(_))
      .WillOnce(Return(ByMove(micro::Result<micro::TypedClientStream<ct::Request, ct::Response>>(
          micro::errors::InternalServerError("x", "no stream")))));
  ct::EchoService& echo = mock;
  auto stream = echo.Chat();
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().detail, "no stream");
}

TEST(CodegenMock, MockHandlerIsReachedThroughTheEndpoint) {
  auto handler = std::make_shared<ct::MockEchoHandler>();
  EXPECT_CALL(*handler, Call(_, ::testing::Property(&ct::Request::text, "in"), _))
      .WillOnce([](micro::Context&, const ct::Request&, ct::Response& rsp) {
        rsp.set_text("out");
        return micro::Status{};
      });
  micro::codegen_testing::FakeServer server;
  ASSERT_TRUE(ct::RegisterEchoHandler(server, handler));
  ct::Request req;
  req.set_text("in");
  ct::Response rsp;
  micro::Context ctx;
  ASSERT_TRUE(server.handlers.at(0).endpoints.at(0).sync_unary(ctx, req, rsp));
  EXPECT_EQ(rsp.text(), "out");
}

}  // namespace
