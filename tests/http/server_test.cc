// micro::http::Server on loopback: Debian's curl, raw sockets (pipelining, limits, timeouts,
// take_over), TLS; and the URL helpers.
#include "http/server.h"

#include <gtest/gtest.h>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>

#include "http/server_test_util.h"
#include "transport/tls.h"

namespace micro::http::server_test {
namespace {

using namespace std::chrono_literals;
using server_testing::Eventually;
using server_testing::RawConn;
using server_testing::RunCommand;
using server_testing::TestServer;

// Echoes what it understood: "<method> <path> q=<q> body=<body>".
asio::awaitable<ServerReply> Echo(ServerRequest& r) {
  ServerReply reply;
  reply.Set("Content-Type", "text/plain");
  reply.body =
      fmt::format("{} {} q={} body={}", r.method, r.path, QueryParam(r.target, "q"), r.body);
  co_return reply;
}

std::string Curl(const std::string& args, int* exit_code) {
  std::string out;
  *exit_code = RunCommand("/usr/bin/curl --noproxy '*' -sS --max-time 10 " + args + " 2>&1", &out);
  return out;
}

// Parses one response off the front of buf: {status, body}, or status 0 when incomplete.
struct RawReply {
  int status = 0;
  std::string head;
  std::string body;
};
RawReply TakeReply(std::string& buf) {
  RawReply r;
  const auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos || buf.size() < 12) return r;
  r.head = buf.substr(0, end + 2);
  std::size_t length = 0;
  if (auto at = r.head.find("Content-Length: "); at != std::string::npos) {
    length = std::stoul(r.head.substr(at + 16));
  }
  if (buf.size() < end + 4 + length) return {};
  r.status = std::stoi(buf.substr(9, 3));
  r.body = buf.substr(end + 4, length);
  buf.erase(0, end + 4 + length);
  return r;
}

TEST(HttpServerTest, CurlKeepsTheConnectionAliveAcrossRequests) {
  std::mutex mu;
  std::set<std::string> remotes;
  int requests = 0;
  TestServer server({}, [&](ServerRequest& r) -> asio::awaitable<ServerReply> {
    {
      std::lock_guard lock(mu);
      remotes.insert(r.remote);
      ++requests;
    }
    co_return co_await Echo(r);
  });
  ASSERT_TRUE(server.ok()) << server.error();
  int code = -1;
  // One curl, three URLs: curl reuses its connection (num_connects 0 after the first).
  // Options end at --next; the connection cache does not.
  const std::string each =
      "--noproxy '*' -sS --max-time 10 -w ' [%{http_code} %{num_connects}]\\n'";
  const std::string out = Curl(
      fmt::format("-w ' [%{{http_code}} %{{num_connects}}]\\n' '{}' --next {} -d x=1 '{}' '{}'",
                  server.url("/a%20b?q=1+2"), each, server.url("/second?q=%2F"), server.url("/p")),
      &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out,
            "GET /a b q=1 2 body= [200 1]\n"
            "POST /second q=/ body=x=1 [200 0]\n"
            "POST /p q= body=x=1 [200 0]\n");
  std::lock_guard lock(mu);
  EXPECT_EQ(requests, 3);
  EXPECT_EQ(remotes.size(), 1u);
  EXPECT_EQ(remotes.begin()->rfind("127.0.0.1:", 0), 0u) << *remotes.begin();
}

TEST(HttpServerTest, CurlHeadAndHeaders) {
  TestServer server({}, [&](ServerRequest& r) -> asio::awaitable<ServerReply> {
    ServerReply reply{.body = "hello"};
    reply.Set("X-Host", std::string(r.header.GetOr("Host")));
    reply.Set("X-Multi", std::string(r.header.GetOr("X-Multi")));
    co_return reply;
  });
  ASSERT_TRUE(server.ok()) << server.error();
  int code = -1;
  const std::string out =
      Curl(fmt::format("-I -H 'X-Multi: a' -H 'X-Multi: b' '{}'", server.url("/")), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Host: " + server->Addr() + "\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Multi: a, b\r\n"), std::string::npos) << out;
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server({}, [](ServerRequest& r) -> asio::awaitable<ServerReply> {
    if (r.path == "/slow") {
      asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return ServerReply{.body = r.path};
  });
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(
      c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
             "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
             "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(c.ReadToEof());
  std::string& buf = c.buffer();
  auto r1 = TakeReply(buf);
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.body, "/slow");
  // HEAD: the length of the body it would get, no body.
  const auto end = buf.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos);
  EXPECT_NE(buf.substr(0, end).find("Content-Length: 5"), std::string::npos);
  buf.erase(0, end + 4);
  auto r3 = TakeReply(buf);
  EXPECT_EQ(r3.body, "/post");
  auto r4 = TakeReply(buf);
  EXPECT_EQ(r4.body, "/last");
  EXPECT_NE(r4.head.find("Connection: close\r\n"), std::string::npos) << r4.head;
  EXPECT_EQ(buf, "");
}

TEST(HttpServerTest, NoContentHasNoBodyAndTheConnectionGoesOn) {
  TestServer server({}, [](ServerRequest& r) -> asio::awaitable<ServerReply> {
    if (r.path == "/none") co_return ServerReply{.status = 204, .body = "ignored"};
    co_return ServerReply{.body = "ok"};
  });
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("GET /none HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil("ok"));
  EXPECT_EQ(c.buffer(),
            "HTTP/1.1 204 No Content\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

TEST(HttpServerTest, BodyOverTheLimitIs413) {
  TestServer server({.max_body_bytes = 100}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"));
  ASSERT_TRUE(c.ReadToEof());
  EXPECT_EQ(c.buffer().rfind("HTTP/1.1 413 Request Entity Too Large\r\n", 0), 0u) << c.buffer();
  EXPECT_NE(c.buffer().find("Connection: close\r\n"), std::string::npos);
  // Chunked: found out while reading.
  RawConn d(server.port());
  ASSERT_TRUE(d.Send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                     fmt::format("{:x}\r\n{}\r\n", 200, std::string(200, 'a'))));
  ASSERT_TRUE(d.ReadToEof());
  EXPECT_EQ(d.buffer().rfind("HTTP/1.1 413 ", 0), 0u) << d.buffer();
}

TEST(HttpServerTest, HugeHeaderBlockIs431) {
  TestServer server({.max_header_bytes = 1024}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n"));
  ASSERT_TRUE(c.ReadToEof());
  EXPECT_EQ(c.buffer().rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u)
      << c.buffer();
  // Garbage is a 400.
  RawConn d(server.port());
  ASSERT_TRUE(d.Send("NOT HTTP AT ALL\r\n\r\n"));
  ASSERT_TRUE(d.ReadToEof());
  EXPECT_EQ(d.buffer().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << d.buffer();
}

TEST(HttpServerTest, StalledRequestGets408) {
  TestServer server({.read_timeout = 200ms, .idle_timeout = 10s}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  const auto start = Clock::now();
  ASSERT_TRUE(c.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  // Trickling bytes does not extend the deadline.
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(c.Send("d"));
  ASSERT_TRUE(c.ReadToEof(5s));
  const auto took = Clock::now() - start;
  EXPECT_EQ(c.buffer().rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << c.buffer();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 3s);
}

TEST(HttpServerTest, IdleKeptAliveConnectionIsClosedQuietly) {
  TestServer server({.read_timeout = 5s, .idle_timeout = 200ms}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadUntil("body="));
  c.buffer().clear();
  ASSERT_TRUE(Eventually([&] { return server->Connections() == 1; }));
  const auto start = Clock::now();
  ASSERT_TRUE(c.ReadToEof(5s));
  EXPECT_EQ(c.buffer(), "");  // no 408: nothing had been sent
  EXPECT_GE(Clock::now() - start, 150ms);
  EXPECT_TRUE(Eventually([&] { return server->Connections() == 0; }));
}

TEST(HttpServerTest, ConnectionsOverTheMaximumAreClosedAtOnce) {
  TestServer server({.max_connections = 2}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  auto a = std::make_unique<RawConn>(server.port());
  RawConn b(server.port());
  ASSERT_TRUE(Eventually([&] { return server->Connections() == 2; }));
  RawConn c(server.port());
  ASSERT_TRUE(c.connected());  // the kernel accepts; the server closes it
  ASSERT_TRUE(c.ReadToEof(5s));
  EXPECT_EQ(c.buffer(), "");
  EXPECT_EQ(server->Connections(), 2u);
  // The first two are served; after one goes there is room again.
  ASSERT_TRUE(b.Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(b.ReadUntil("GET /b"));
  a.reset();
  ASSERT_TRUE(Eventually([&] { return server->Connections() == 1; }));
  RawConn d(server.port());
  ASSERT_TRUE(d.Send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(d.ReadUntil("GET /d"));
}

// The handler takes the connection over and echoes "got:<bytes>" until it has 11 bytes: the
// first ones arrive in the same packet as the request.
asio::awaitable<ServerReply> TakeOver(ServerRequest& r) {
  ServerReply reply;
  if (r.path != "/raw") co_return ServerReply{.status = 404};
  reply.take_over = [](ByteStream& raw) -> asio::awaitable<void> {
    (void)co_await raw.Write("HTTP/1.1 101 Switching Protocols\r\n\r\n");
    std::string got;
    char buf[64];
    while (got.size() < 11) {
      auto n = co_await raw.ReadSome(buf, 4);  // small reads: the leftover in pieces
      if (!n.ok() || *n == 0) co_return;
      got.append(buf, *n);
    }
    const std::string answer = "got:" + got;
    (void)co_await raw.Write(answer);
  };
  co_return reply;
}

TEST(HttpServerTest, TakeOverGetsTheBytesAlreadyRead) {
  TestServer server({}, TakeOver);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("GET /raw HTTP/1.1\r\nHost: x\r\n\r\nhello"));
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  EXPECT_EQ(c.buffer(), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  c.buffer().clear();
  ASSERT_TRUE(c.Send(" world"));
  ASSERT_TRUE(c.ReadToEof());  // the server closes after take_over returns
  EXPECT_EQ(c.buffer(), "got:hello world");
  EXPECT_TRUE(Eventually([&] { return server->Connections() == 0; }));
}

TEST(HttpServerTest, CloseClosesOpenConnections) {
  std::atomic<bool> in_take_over{false};
  TestServer server({}, [&](ServerRequest& r) -> asio::awaitable<ServerReply> {
    ServerReply reply;
    if (r.path == "/hold") {
      reply.take_over = [&](ByteStream& raw) -> asio::awaitable<void> {
        in_take_over = true;
        char buf[16];
        while (true) {  // until Close() ends it
          auto n = co_await raw.ReadSome(buf, sizeof(buf));
          if (!n.ok() || *n == 0) co_return;
        }
      };
    }
    co_return reply;
  });
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn idle(server.port());
  RawConn held(server.port());
  ASSERT_TRUE(held.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return in_take_over.load() && server->Connections() == 2; }));
  server->Close();
  server->Close();  // idempotent
  EXPECT_TRUE(idle.ReadToEof(5s));
  EXPECT_TRUE(held.ReadToEof(5s));
  EXPECT_TRUE(Eventually([&] { return server->Connections() == 0; }));
  // Not accepting any more.
  ASSERT_TRUE(Eventually([&] {
    RawConn late(server.port());
    return !late.connected() || late.ReadToEof(1s);
  }));
}

TEST(HttpServerTest, UpgradeRequestNotTakenOverIsAnsweredAndClosed) {
  TestServer server({}, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(
      c.Send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  ASSERT_TRUE(c.ReadToEof());
  auto r = TakeReply(c.buffer());
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
}

TEST(HttpServerTest, ServesTlsWithAGivenCertificate) {
  auto pem = transport_detail::GenerateSelfSigned({"127.0.0.1"});
  ASSERT_TRUE(pem.ok());
  const std::string ca = "/tmp/micro_http_server_test_ca_" + std::to_string(::getpid()) + ".pem";
  std::ofstream(ca) << pem->cert_pem;
  ServerOptions o{.secure = true};
  o.tls.cert_pem = pem->cert_pem;
  o.tls.key_pem = pem->key_pem;
  TestServer server(o, Echo);
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string url = "https://" + server->Addr();
  int code = -1;
  const std::string out = Curl(
      fmt::format("--cacert '{}' -w ' [%{{num_connects}}]\\n' '{}/x?q=1' '{}/y'", ca, url, url),
      &code);
  std::remove(ca.c_str());
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "GET /x q=1 body= [1]\nGET /y q= body= [0]\n");
  // Plain HTTP to it is not served.
  RawConn plain(server.port());
  ASSERT_TRUE(plain.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  plain.ReadToEof(5s);
  EXPECT_EQ(plain.buffer().find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpServerTest, HandlerExceptionIs500AndClose) {
  TestServer server({}, [](ServerRequest&) -> asio::awaitable<ServerReply> {
    throw std::runtime_error("boom");
    co_return ServerReply{};
  });
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.ReadToEof());
  EXPECT_EQ(c.buffer().rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u) << c.buffer();
}

TEST(HttpServerTest, BindErrorsCarryTheErrorId) {
  TestServer first({}, Echo);
  ASSERT_TRUE(first.ok());
  TestServer second({.address = first->Addr(), .error_id = "my.id"}, Echo);
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.error().find("my.id"), std::string::npos) << second.error();
}

TEST(HttpServerUrlTest, Unescape) {
  EXPECT_EQ(QueryUnescape("a+b%20c%2f%zz%4"), "a b c/%zz%4");
  EXPECT_EQ(PathUnescape("a+b%20c%2F"), "a+b c/");
  EXPECT_EQ(QueryUnescape(""), "");
  EXPECT_EQ(QueryUnescape("%41%"), "A%");
}

TEST(HttpServerUrlTest, ParseQueryAndParam) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseQuery("a=1&b=x+y&a=2&&c&d=%3D&e;f=1"),
            (Pairs{{"a", "1"}, {"b", "x y"}, {"a", "2"}, {"c", ""}, {"d", "="}}));
  EXPECT_EQ(ParseQuery(""), Pairs{});
  EXPECT_EQ(QueryParam("/p?a=1&id=a%2Fb#frag", "id"), "a/b");
  EXPECT_EQ(QueryParam("/p?a=1&a=2", "a"), "1");
  EXPECT_EQ(QueryParam("/p", "a"), "");
}

TEST(HttpServerUrlTest, ReplySetGetAndWebSocketRequest) {
  ServerReply reply;
  reply.Set("content-type", "a").Set("X-One", "1").Set("Content-Type", "b");
  EXPECT_EQ(reply.header, (std::vector<std::pair<std::string, std::string>>{{"content-type", "b"},
                                                                            {"X-One", "1"}}));
  EXPECT_EQ(reply.Get("CONTENT-TYPE"), "b");
  EXPECT_EQ(reply.Get("missing"), "");

  ServerRequest r{.method = "GET"};
  r.header.Set("Upgrade", "WebSocket");
  r.header.Set("Connection", "keep-alive, Upgrade");
  r.header.Set("Sec-Websocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_FALSE(r.WantsWebSocket());
  r.header.Set("Sec-Websocket-Version", "13");
  EXPECT_TRUE(r.WantsWebSocket());
  r.method = "POST";
  EXPECT_FALSE(r.WantsWebSocket());
}

}  // namespace
}  // namespace micro::http::server_test
