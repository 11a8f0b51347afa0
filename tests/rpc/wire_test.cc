// go-micro on the wire: the captured requests of a go-micro v5 greeter client
// (reference/go-micro-wire.md) replayed against our server over a raw TCP socket, and our
// client's request bytes compared with the captured ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "micro/metadata.h"
#include "rpc/rpc_test_util.h"
#include "support/raw_http.h"

namespace micro {
namespace {

using asio::ip::tcp;
using testing_util::GreeterHandler;
using testing_util::RpcPair;

// Connection A of the capture, with the server's port substituted.
std::string GoMicroRequest(const std::string& host, std::string_view content_type,
                           std::string_view endpoint, std::string_view id, std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: " + host +
         "\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nAccept: " + std::string(content_type) +
         "\r\nContent-Type: " + std::string(content_type) +
         "\r\nMicro-Endpoint: " + std::string(endpoint) + "\r\nMicro-Id: " + std::string(id) +
         "\r\nMicro-Method: " + std::string(endpoint) +
         "\r\nMicro-Service: greeter\r\nTimeout: 5000000000\r\n\r\n" + std::string(body);
}

using micro::testing::RawResponse;
using micro::testing::ReadResponse;

class WireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = RpcPair::Make("http");
    ASSERT_TRUE(p_.server->Handle(GreeterHandler()).ok());
    ASSERT_TRUE(p_.server->Start().ok());
    const std::string addr = p_.server->Address();
    host_ = addr;
    sock_.connect({asio::ip::make_address("127.0.0.1"),
                   static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)))});
  }
  RpcPair p_;
  std::string host_;
  asio::io_context io_;
  tcp::socket sock_{io_};
  asio::streambuf buf_;
};

TEST_F(WireTest, AnswersGoMicroJsonRequestAsGoMicroDoes) {
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/json", "Greeter.Hello", "0",
                                                 "{\"name\":\"John\"}\n")));
  RawResponse r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.body, "{\"msg\":\"Hello John\"}\n");
  EXPECT_EQ(r.headers["Content-Length"], "21");
  // Every header of the captured go-micro response.
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
  EXPECT_EQ(r.headers["Accept"], "application/json");
  EXPECT_EQ(r.headers["Micro-Endpoint"], "Greeter.Hello");
  EXPECT_EQ(r.headers["Micro-Id"], "0");
  EXPECT_EQ(r.headers["Micro-Method"], "Greeter.Hello");
  EXPECT_EQ(r.headers["Micro-Service"], "greeter");
  EXPECT_EQ(r.headers["Timeout"], "5000000000");
  EXPECT_EQ(r.headers["User-Agent"], "Go-http-client/1.1");
  EXPECT_EQ(r.headers.count("Micro-Error"), 0u);
}

TEST_F(WireTest, AnswersGoMicroProtobufRequest) {
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/protobuf", "Greeter.Hello",
                                                 "0", std::string("\x0a\x04John", 6))));
  RawResponse r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.body, std::string("\x0a\x0aHello John", 12));
  EXPECT_EQ(r.headers["Content-Type"], "application/protobuf");
}

TEST_F(WireTest, TwoCallsOnOneConnection) {
  for (const char* id : {"0", "1"}) {
    asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/json", "Greeter.Hello", id,
                                                   "{\"name\":\"John\"}\n")));
    RawResponse r = ReadResponse(sock_, buf_);
    EXPECT_EQ(r.body, "{\"msg\":\"Hello John\"}\n");
    EXPECT_EQ(r.headers["Micro-Id"], id);  // go-micro echoes "0" twice; we name the real call
  }
}

TEST_F(WireTest, UnknownEndpointAsGoMicro) {
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/json", "Greeter.Nope", "0",
                                                 "{\"name\":\"John\"}\n")));
  RawResponse r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.headers["Micro-Error"], "rpc: can't find method Nope");
  EXPECT_EQ(r.headers["X-Micro-Error"], "rpc: can't find method Nope");
  EXPECT_EQ(r.headers["Content-Length"], "0");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(WireTest, IllFormedAndUnsupportedRequests) {
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/json", "Hello", "0", "{}")));
  RawResponse r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.headers["Micro-Error"], "rpc: service/endpoint request ill-formed: Hello");
  asio::write(sock_,
              asio::buffer(GoMicroRequest(host_, "application/json", "Nobody.Hello", "1", "{}")));
  r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.headers["Micro-Error"], "rpc: can't find service Nobody");
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "text/xml", "Greeter.Hello", "2", "<x/>")));
  r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.headers["Content-Type"], "text/plain");
  EXPECT_EQ(r.body, "unsupported Content-Type: text/xml");
  // Bad JSON: a 400 micro error; the connection still serves the next request.
  asio::write(sock_,
              asio::buffer(GoMicroRequest(host_, "application/json", "Greeter.Hello", "3", "{")));
  r = ReadResponse(sock_, buf_);
  EXPECT_EQ(Error::Parse(r.headers["Micro-Error"]).code, 400);
  asio::write(sock_, asio::buffer(GoMicroRequest(host_, "application/json", "Greeter.Hello", "4",
                                                 "{\"name\":\"again\"}")));
  r = ReadResponse(sock_, buf_);
  EXPECT_EQ(r.body, "{\"msg\":\"Hello again\"}\n");
}

// A request carrying Micro-Topic is an event for the server's subscribers (go-micro's
// HandleEvent), not a call: delivered to every subscriber of the topic; the answer echoes the
// headers with no body, and Micro-Error when nothing subscribes or a subscriber fails.
TEST(EventWireTest, MicroTopicOverTheTransportGoesToSubscribers) {
  ServerOptions options;
  options.broker = *NewMemoryBroker();
  RpcPair p = RpcPair::Make("http", options);
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  std::mutex mu;
  std::vector<std::string> got;
  for (const char* who : {"first", "second"}) {
    SubscriberOptions so;
    so.queue = who;  // two groups: both must get it
    ASSERT_TRUE(Subscribe<greeter::Request>(
                    *p.server, "user.created",
                    [&, who](Context& ctx, const greeter::Request& r) {
                      std::lock_guard lock(mu);
                      got.push_back(std::string(who) + ":" + r.name() + ":" +
                                    std::string(ctx.metadata().GetOr("Micro-Topic")));
                      return r.name() == "fail" ? Status(errors::BadRequest("sub", "refused"))
                                                : Status{};
                    },
                    so)
                    .ok());
  }
  ASSERT_TRUE(p.server->Start().ok());
  const std::string addr = p.server->Address();
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"),
                static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)))});
  asio::streambuf buf;
  auto event = [&](std::string_view topic, std::string_view body) {
    const std::string req = "POST / HTTP/1.1\r\nHost: " + addr +
                            "\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\nContent-Type: application/json\r\nMicro-Id: 7\r\n"
                            "Micro-Topic: " +
                            std::string(topic) + "\r\n\r\n" + std::string(body);
    asio::write(sock, asio::buffer(req));
    return ReadResponse(sock, buf);
  };

  RawResponse r = event("user.created", R"({"name":"John"})");
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.headers["Micro-Topic"], "user.created");
  EXPECT_EQ(r.headers.count("Micro-Error"), 0u) << r.headers["Micro-Error"];
  {
    std::lock_guard lock(mu);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got,
              (std::vector<std::string>{"first:John:user.created", "second:John:user.created"}));
  }

  r = event("user.created", R"({"name":"fail"})");
  EXPECT_NE(r.headers["Micro-Error"].find("refused"), std::string::npos)
      << r.headers["Micro-Error"];
  r = event("nobody.listens", R"({"name":"x"})");
  EXPECT_NE(r.headers["Micro-Error"].find("404"), std::string::npos) << r.headers["Micro-Error"];
  // The same connection still serves calls.
  asio::write(sock, asio::buffer(GoMicroRequest(addr, "application/json", "Greeter.Hello", "8",
                                                "{\"name\":\"Ann\"}")));
  r = ReadResponse(sock, buf);
  EXPECT_EQ(r.body, "{\"msg\":\"Hello Ann\"}\n");
  ASSERT_TRUE(p.server->Stop().ok());
}

TEST(ClientWireTest, RequestBytesMatchGoMicroClient) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string host = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  std::string received;
  std::thread peer([&] {
    tcp::socket s(io);
    acceptor.accept(s);
    asio::streambuf buf;
    asio::read_until(s, buf, "\r\n\r\n");
    asio::read(s, buf, asio::transfer_at_least(0));
    received.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    while (received.size() < received.find("\r\n\r\n") + 4 + 16) {
      char c[64];
      const size_t n = s.read_some(asio::buffer(c));
      received.append(c, n);
    }
    const std::string rsp =
        "HTTP/1.1 200 OK\r\nContent-Length: 21\r\nContent-Type: "
        "application/json\r\n\r\n{\"msg\":\"Hello John\"}\n";
    asio::write(s, asio::buffer(rsp));
  });
  auto transport = *Transports().Create("http", {});
  auto client = *NewClient({.transport = transport});
  Context ctx;
  greeter::Request req;
  req.set_name("John");
  auto rsp =
      Call<greeter::Response>(*client, ctx, "greeter", "Greeter.Hello", req, {.address = {host}});
  peer.join();
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello John");
  // Byte for byte, bar the User-Agent line.
  std::string expected =
      GoMicroRequest(host, "application/json", "Greeter.Hello", "0", "{\"name\":\"John\"}\n");
  auto strip_agent = [](std::string s) {
    const auto at = s.find("User-Agent: ");
    if (at != std::string::npos) s.erase(at, s.find("\r\n", at) + 2 - at);
    return s;
  };
  EXPECT_EQ(strip_agent(received), strip_agent(expected));
}

// One call of our client (3 retries allowed) to a peer that accepts one connection, reads the
// request head and then does what `answer` does with the socket. Returns the call's status and
// how many requests the peer read.
std::pair<Status, int> CallOncePeer(const std::function<void(tcp::socket&)>& answer) {
  asio::io_context io;
  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string host = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  std::atomic<int> requests{0};
  std::thread peer([&] {
    tcp::socket s(io);
    acceptor.accept(s);
    asio::streambuf buf;
    asio::read_until(s, buf, "\r\n\r\n");
    ++requests;
    answer(s);
  });
  auto transport = *Transports().Create("http", {});
  auto client = *NewClient({.transport = transport});
  Context ctx;
  greeter::Request req;
  req.set_name("John");
  auto rsp = Call<greeter::Response>(*client, ctx, "greeter", "Greeter.Hello", req,
                                     {.address = {host}, .retries = 3});
  peer.join();
  return {rsp.ok() ? Status{} : Status(rsp.error()), requests.load()};
}

// A connection that fails after the request went out is go-micro's go.micro.client.transport
// (500), and the call is not retried: the server may have acted on it.
TEST(ClientWireTest, ExchangeFailureIsGoMicroClientTransportError) {
  auto [status, requests] = CallOncePeer([](tcp::socket& s) { s.close(); });  // no answer
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().id, error_ids::kClientTransport);
  EXPECT_EQ(status.error().code, 500);
  EXPECT_EQ(requests, 1);
}

// An answer that does not decode is go-micro's go.micro.client.codec (500), not retried: the
// server did answer.
TEST(ClientWireTest, UndecodableAnswerIsGoMicroClientCodecError) {
  auto [status, requests] = CallOncePeer([](tcp::socket& s) {
    const std::string body = "{\"msg\": [1, 2";  // cut short: not JSON
    asio::write(s,
                asio::buffer("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nContent-Type: application/json\r\n\r\n" + body));
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().id, error_ids::kClientCodec) << status.error();
  EXPECT_EQ(status.error().code, 500);
  EXPECT_EQ(requests, 1);
}

}  // namespace
}  // namespace micro
