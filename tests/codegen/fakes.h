// Test doubles for the generated code: a gmock micro::Client, a recording micro::Server and
// in-memory client/server streams.
#pragma once

#include <gmock/gmock.h>
#include <micro/client.h>
#include <micro/errors.h>
#include <micro/server.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace micro::codegen_testing {

class MockClient : public Client {
 public:
  MOCK_METHOD(Status, Call,
              (Context & ctx, const ClientRequest& req, codec::ReadBody rsp,
               const CallOptions& opts),
              (override));
  MOCK_METHOD(asio::awaitable<Status>, AsyncCall,
              (Context & ctx, const ClientRequest& req, codec::ReadBody rsp,
               const CallOptions& opts),
              (override));
  MOCK_METHOD((Result<std::unique_ptr<ClientStream>>), Stream,
              (Context & ctx, const ClientRequest& req, const CallOptions& opts), (override));
  MOCK_METHOD(Status, Publish,
              (Context & ctx, std::string_view topic, codec::WriteBody body,
               const MessageOptions& opts),
              (override));
  MOCK_METHOD(const ClientOptions&, Options, (), (const, override));
  MOCK_METHOD(asio::any_io_executor, executor, (), (const, override));
  MOCK_METHOD(std::string, String, (), (const, override));
};

// Records every handler it is given; refuses a name given twice (409), as the real server.
class FakeServer : public Server {
 public:
  Status Handle(Handler handler) override {
    for (const Handler& h : handlers) {
      if (h.name == handler.name) return errors::Conflict("fake", "handler {} taken", h.name);
    }
    handlers.push_back(std::move(handler));
    return {};
  }
  Status Subscribe(ServerSubscriber subscriber) override {
    subscribers.push_back(std::move(subscriber));
    return {};
  }
  Status Start() override { return {}; }
  Status Stop() override { return {}; }
  std::string Address() const override { return "127.0.0.1:0"; }
  registry::Service Registration() const override { return {}; }
  const ServerOptions& Options() const override { return options_; }
  std::string String() const override { return "fake"; }

  std::vector<Handler> handlers;
  std::vector<ServerSubscriber> subscribers;

 private:
  ServerOptions options_;
};

// A client stream that records what is sent and plays back queued replies.
class FakeClientStream : public ClientStream {
 public:
  struct Log {
    std::vector<std::string> sent;  // serialized messages, in order
    std::deque<std::string> replies;
    bool close_send = false;
    bool closed = false;
    Status send_status;
  };
  explicit FakeClientStream(std::shared_ptr<Log> log) : log_(std::move(log)) {}
  Context& context() override { return ctx_; }
  Status SendMsg(const google::protobuf::Message& msg) override {
    if (!log_->send_status) return log_->send_status;
    log_->sent.push_back(msg.SerializeAsString());
    return {};
  }
  bool RecvMsg(google::protobuf::Message& msg) override {
    if (log_->replies.empty()) return false;
    const bool ok = msg.ParseFromString(log_->replies.front());
    log_->replies.pop_front();
    return ok;
  }
  Status status() const override { return {}; }
  Status CloseSend() override {
    log_->close_send = true;
    return {};
  }
  Status Close() override {
    log_->closed = true;
    return {};
  }

 private:
  std::shared_ptr<Log> log_;
  Context ctx_;
};

// A server stream fed with client messages; records what the handler sends.
class FakeServerStream : public ServerStream {
 public:
  Context& context() override { return ctx_; }
  Status SendMsg(const google::protobuf::Message& msg) override {
    sent.push_back(msg.SerializeAsString());
    return {};
  }
  bool RecvMsg(google::protobuf::Message& msg) override {
    if (incoming.empty()) return false;
    const bool ok = msg.ParseFromString(incoming.front());
    incoming.pop_front();
    return ok;
  }
  Status status() const override { return end_status; }

  std::deque<std::string> incoming;  // serialized client messages
  std::vector<std::string> sent;
  Status end_status;

 private:
  Context ctx_;
};

}  // namespace micro::codegen_testing
