// micro::http::Client against loopback servers: a scripted one (exact bytes, misbehaviour)
// and the library's own HTTP transport (TLS).
#include "micro/http_client.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "http/loopback_server.h"
#include "micro/transport.h"

namespace micro::http {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackServer;
using testing::Reply;
using testing::SeenRequest;
using testing::ServerConn;

TEST(HttpClientTest, StatusHeadersAndBody) {
  LoopbackServer server(
      [](const SeenRequest&, ServerConn& c) { c.Write(Reply(201, "hello", "X-Thing: a b\r\n")); });
  Client client;
  Request req{.method = "POST", .target = "/v3/kv/range?x=1", .body = "{\"k\":1}"};
  req.header.Set("content-type", "application/json");
  auto rsp = client.SendSync(server.address(), req);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->status, 201);
  EXPECT_EQ(rsp->reason, "X");
  EXPECT_EQ(rsp->header.GetOr("X-Thing"), "a b");
  EXPECT_EQ(rsp->body, "hello");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].line, "POST /v3/kv/range?x=1 HTTP/1.1");
  EXPECT_NE(seen[0].head.find("Host: " + server.address() + "\r\n"), std::string::npos);
  EXPECT_NE(seen[0].head.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_NE(seen[0].head.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(seen[0].head.find("User-Agent: micro-cpp/"), std::string::npos);
  EXPECT_EQ(seen[0].body, "{\"k\":1}");
}

TEST(HttpClientTest, HttpErrorStatusIsAResponseNotAnError) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) { c.Write(Reply(404, "nope")); });
  Client client;
  auto rsp = client.SendSync(server.address(), {.target = "/missing"});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->status, 404);
  EXPECT_EQ(rsp->body, "nope");
  EXPECT_EQ(server.requests()[0].line, "GET /missing HTTP/1.1");
  EXPECT_EQ(server.requests()[0].head.find("Content-Length"), std::string::npos);
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) { c.Write(Reply(200, "ok")); });
  Client client;
  for (int i = 0; i < 5; ++i) {
    auto rsp = client.SendSync(server.address(), {});
    ASSERT_TRUE(rsp.ok()) << rsp.error();
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, ConnectionCloseIsNotReused) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write(Reply(200, "ok", "Connection: close\r\n"));
    c.CloseAfter();
  });
  Client client;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.SendSync(server.address(), {}).ok());
  EXPECT_EQ(server.connections(), 3);
}

TEST(HttpClientTest, StaleReusedConnectionIsRetriedOnce) {
  // The server silently closes every connection after one response.
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write(Reply(200, "ok"));
    c.CloseAfter();
  });
  Client client;
  ASSERT_TRUE(client.SendSync(server.address(), {}).ok());
  std::this_thread::sleep_for(50ms);  // the close reaches the client's idle socket
  auto rsp = client.SendSync(server.address(), {.body = "second"});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests().back().body, "second");
}

TEST(HttpClientTest, ChunkedBodyIsAssembled) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    std::this_thread::sleep_for(10ms);
    c.Write("6\r\n world\r\n0\r\n\r\n");
  });
  Client client;
  for (int i = 0; i < 2; ++i) {
    auto rsp = client.SendSync(server.address(), {});
    ASSERT_TRUE(rsp.ok()) << rsp.error();
    EXPECT_EQ(rsp->body, "hello world");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, BodyUntilCloseWithoutLength) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\n\r\nall of it");
    c.CloseAfter();
  });
  Client client;
  auto rsp = client.SendSync(server.address(), {});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->body, "all of it");
}

// Runs client.Stream to completion on a helper thread, collecting what it saw.
struct StreamRun {
  std::promise<void> first_data;
  std::atomic<bool> got_first{false};
  std::mutex mu;
  std::string data;
  int head_status = 0;
  std::string head_body;
  int pieces = 0;
};

Status RunStream(Client& client, const std::string& address, StreamRun& run, Context ctx = {},
                 std::function<bool(std::string_view)> stop_when = nullptr) {
  asio::io_context io;
  auto fut =
      asio::co_spawn(io,
                     client.Stream(
                         address, {.method = "POST", .target = "/v3/watch", .body = "{}"}, ctx,
                         [&run](const Response& head) {
                           run.head_status = head.status;
                           run.head_body = head.body;
                           return true;
                         },
                         [&run, stop_when](std::string_view d) {
                           std::lock_guard lock(run.mu);
                           run.data.append(d);
                           ++run.pieces;
                           if (!run.got_first.exchange(true)) run.first_data.set_value();
                           return stop_when ? !stop_when(run.data) : true;
                         }),
                     asio::use_future);
  io.run();
  return fut.get();
}

TEST(HttpClientTest, StreamDeliversBodyAsItArrives) {
  std::promise<void> client_saw_first;
  auto saw = client_saw_first.get_future().share();
  LoopbackServer server([saw](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    c.Write("6\r\n{\"a\":1\r\n2\r\n}\n\r\n");
    // The rest only once the client has seen the first piece: proves incremental delivery.
    saw.wait_for(5s);
    c.Write("8\r\n{\"b\":2}\n\r\n0\r\n\r\n");
  });
  Client client;
  StreamRun run;
  std::thread relay([&] {
    run.first_data.get_future().wait_for(5s);
    client_saw_first.set_value();
  });
  Status st = RunStream(client, server.address(), run);
  relay.join();
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(run.head_status, 200);
  EXPECT_EQ(run.head_body, "");
  EXPECT_EQ(run.data, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_GE(run.pieces, 2);
  // The body ended cleanly: the connection went back to the pool.
  ASSERT_TRUE(client.SendSync(server.address(), {}).ok());
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, StreamEndsWhenDataCallbackSaysSo) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabc\n\r\n");
    while (!release) std::this_thread::sleep_for(5ms);  // never ends the body by itself
  });
  Client client;
  StreamRun run;
  Status st = RunStream(client, server.address(), run, {},
                        [](std::string_view all) { return all.find('\n') != all.npos; });
  release = true;
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(run.data, "abc\n");
}

TEST(HttpClientTest, StreamCancelledByContext) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nx\n\r\n");
    while (!release) std::this_thread::sleep_for(5ms);
  });
  Client client;
  StreamRun run;
  Context ctx;
  std::thread canceller([&] {
    run.first_data.get_future().wait_for(5s);
    ctx.Cancel();
  });
  Status st = RunStream(client, server.address(), run, ctx);
  canceller.join();
  release = true;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 499);
  EXPECT_EQ(st.error().id, kClientErrorId);
}

TEST(HttpClientTest, StreamHeadTimeoutIsNamed) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn&) {
    while (!release) std::this_thread::sleep_for(5ms);
  });
  Client client({.request_timeout = 200ms});
  StreamRun run;
  Status st = RunStream(client, server.address(), run);
  release = true;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 408);
  EXPECT_EQ(st.error().detail, "request timeout");
}

TEST(HttpClientTest, StreamOutlivesRequestTimeoutOnceHeadArrived) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::this_thread::sleep_for(400ms);
    c.Write("2\r\nz\n\r\n0\r\n\r\n");
  });
  Client client({.request_timeout = 150ms});
  StreamRun run;
  Status st = RunStream(client, server.address(), run);
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(run.data, "z\n");
}

TEST(HttpClientTest, RequestTimeoutIsNamed) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn&) {
    while (!release) std::this_thread::sleep_for(5ms);
  });
  Client client({.request_timeout = 150ms});
  const auto start = Clock::now();
  auto rsp = client.SendSync(server.address(), {});
  release = true;
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 408);
  EXPECT_EQ(rsp.error().id, kClientErrorId);
  EXPECT_EQ(rsp.error().detail, "request timeout");
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(HttpClientTest, ContextDeadlineIsNamed) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn&) {
    while (!release) std::this_thread::sleep_for(5ms);
  });
  Client client;
  auto rsp = client.SendSync(server.address(), {}, Context::WithTimeout(150ms));
  release = true;
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 408);
  EXPECT_EQ(rsp.error().detail, "context deadline exceeded");
}

TEST(HttpClientTest, TlsHandshakeTimeoutIsNamed) {
  std::atomic<bool> release{false};
  LoopbackServer server([&release](const SeenRequest&, ServerConn&) {
    while (!release) std::this_thread::sleep_for(5ms);
  });  // accepts TCP, never speaks TLS
  ClientOptions o{.secure = true, .connect_timeout = 200ms};
  o.tls.insecure_skip_verify = true;
  Client client(o);
  auto rsp = client.SendSync(server.address(), {});
  release = true;
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 408);
  EXPECT_EQ(rsp.error().detail, "TLS handshake timeout");
}

TEST(HttpClientTest, ConnectionRefusedIs500) {
  std::string address;
  {
    LoopbackServer gone([](const SeenRequest&, ServerConn&) {});
    address = gone.address();
  }
  Client client;
  auto rsp = client.SendSync(address, {});
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 500);
  EXPECT_EQ(rsp.error().id, kClientErrorId);
  EXPECT_NE(rsp.error().detail.find("dial"), std::string::npos) << rsp.error();
}

TEST(HttpClientTest, OversizeBodyIs413) {
  LoopbackServer server([](const SeenRequest& r, ServerConn& c) {
    c.Write(r.line.find("/chunked") != std::string::npos
                ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                      std::string(32, 'x') + "\r\n0\r\n\r\n"
                : Reply(200, std::string(32, 'x')));
  });
  Client client({.max_body_bytes = 16});
  for (const char* target : {"/length", "/chunked"}) {
    auto rsp = client.SendSync(server.address(), {.target = target});
    ASSERT_FALSE(rsp.ok()) << target;
    EXPECT_EQ(rsp.error().code, 413) << target;
  }
}

TEST(HttpClientTest, MalformedResponseIs500) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) {
    c.Write("NOT HTTP AT ALL\r\n\r\n");
    c.CloseAfter();
  });
  Client client;
  auto rsp = client.SendSync(server.address(), {});
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 500);
  EXPECT_NE(rsp.error().detail.find("malformed"), std::string::npos) << rsp.error();
}

TEST(HttpClientTest, CancellationIs499) {
  std::atomic<bool> release{false};
  std::promise<void> arrived;
  LoopbackServer server([&](const SeenRequest&, ServerConn&) {
    arrived.set_value();
    while (!release) std::this_thread::sleep_for(5ms);
  });
  Client client;
  Context ctx;
  std::thread canceller([&] {
    arrived.get_future().wait_for(5s);
    ctx.Cancel();
  });
  auto rsp = client.SendSync(server.address(), {}, ctx);
  canceller.join();
  release = true;
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 499);
  // Already cancelled: fails at once.
  auto again = client.SendSync(server.address(), {}, ctx);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, 499);
}

TEST(HttpClientTest, BadMethodOrTargetIs400) {
  Client client;
  auto rsp = client.SendSync("127.0.0.1:1", {.method = "GET /x", .target = "/"});
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 400);
  rsp = client.SendSync("127.0.0.1:1", {.target = "/a\r\nX: y"});
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 400);
}

TEST(HttpClientTest, ConcurrentCallsFromManyThreads) {
  LoopbackServer server([](const SeenRequest& r, ServerConn& c) { c.Write(Reply(200, r.body)); });
  Client client({.max_idle_per_address = 2});
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string body = std::to_string(t) + "-" + std::to_string(i);
        auto rsp = client.SendSync(server.address(), {.method = "POST", .body = body});
        if (rsp && rsp->body == body) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good, 80);
  EXPECT_LT(server.connections(), 80);  // connections are reused (how many depends on timing)
}

TEST(HttpClientTest, SendSyncOnOwnExecutorIsAnError) {
  asio::io_context io;
  Client client({.executor = io.get_executor()});
  Result<Response> rsp;
  asio::post(io, [&] { rsp = client.SendSync("127.0.0.1:1", {}); });
  io.run();
  ASSERT_FALSE(rsp.ok());
  EXPECT_EQ(rsp.error().code, 500);
}

TEST(HttpClientTest, SendAwaitedOnAnotherExecutor) {
  LoopbackServer server([](const SeenRequest&, ServerConn& c) { c.Write(Reply(200, "async")); });
  Client client;
  asio::io_context io;
  auto fut = asio::co_spawn(io, client.Send(server.address(), {}), asio::use_future);
  io.run();
  auto rsp = fut.get();
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->body, "async");
}

TEST(HttpClientTest, TlsAgainstTheHttpTransport) {
  TransportOptions to{.secure = true};
  auto transport = NewHttpTransport(to);
  ASSERT_TRUE(transport.ok());
  auto listener = (*transport)->Listen("127.0.0.1:0");
  ASSERT_TRUE(listener.ok()) << listener.error();
  (*listener)->Start([](std::shared_ptr<Socket> s) -> asio::awaitable<void> {
    Message m;
    while ((co_await s->Recv(m)).ok()) {
      Message rsp{.header = {}, .body = "tls:" + m.body};
      if (!(co_await s->Send(rsp)).ok()) break;
    }
  });
  ClientOptions o{.secure = true};
  o.tls.insecure_skip_verify = true;
  Client client(o);
  for (int i = 0; i < 2; ++i) {
    auto rsp = client.SendSync((*listener)->Addr(), {.method = "POST", .body = "hi"});
    ASSERT_TRUE(rsp.ok()) << rsp.error();
    EXPECT_EQ(rsp->status, 200);
    EXPECT_EQ(rsp->body, "tls:hi");
  }
  // Verification on: the self-signed certificate is refused.
  Client strict({.secure = true});
  auto refused = strict.SendSync((*listener)->Addr(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 500);
  (*listener)->Close();
}

}  // namespace
}  // namespace micro::http
