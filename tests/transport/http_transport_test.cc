// The HTTP transport over real loopback sockets: go-micro's captured bytes, pipelining, and
// every limit and timeout. (What any transport must do is in transport_contract.cc.)
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include "micro/transport.h"
#include "transport/test_util.h"
#include "transport/wire_vectors.h"
#include "transport/write_now.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using testing::GreeterHandler;
using testing::PortOf;
using testing::RawPeer;
using Kind = http::HttpParser::Kind;

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

// Header map of a response or request, for order-insensitive comparison.
Metadata HeadersOf(std::string_view bytes, Kind kind) {
  http::HttpParser p(kind, 1 << 20, 1 << 20);
  Message m;
  p.Start(&m);
  std::size_t used = 0;
  (void)p.Parse(bytes.data(), bytes.size(), &used);
  return m.header;
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void Serve(TransportOptions o = {}, SocketHandler h = GreeterHandler) {
    auto t = NewHttpTransport(std::move(o));
    ASSERT_TRUE(t.ok());
    transport_ = *t;
    auto l = transport_->Listen("127.0.0.1:0");
    ASSERT_TRUE(l.ok()) << l.error();
    listener_ = *l;
    listener_->Start(std::move(h));
    port_ = PortOf(listener_->Addr());
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    if (listener_) listener_->Close();
  }

  // A fresh connection gets a well-formed request answered.
  void ExpectServerStillAnswers() {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    ASSERT_TRUE(peer->Write(wire::kConn0Request0));
    EXPECT_EQ(peer->ReadMessage(), wire::kConn0Response0);
  }

  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Listener> listener_;
  uint16_t port_ = 0;
};

TEST_F(HttpTransportTest, ReplayedGoMicroRequestsGetGoMicroResponses) {
  Serve();
  int exchanges = 0;
  for (const auto& conn : wire::Connections()) {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    for (const auto& ex : conn) {
      ASSERT_TRUE(peer->Write(ex.request));
      const std::string got = peer->ReadMessage();
      // Header by header (what a go-micro client reads), then byte for byte.
      EXPECT_EQ(HeadersOf(got, Kind::kResponse), HeadersOf(ex.response, Kind::kResponse));
      EXPECT_EQ(got.substr(0, 17), "HTTP/1.1 200 OK\r\n");
      EXPECT_EQ(got, ex.response);
      ++exchanges;
    }
  }
  EXPECT_EQ(exchanges, 6);
}

TEST_F(HttpTransportTest, RequestsDeliveredOneByteAtATime) {
  Serve();
  for (const auto& conn : wire::Connections()) {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    for (const auto& ex : conn) {
      ASSERT_TRUE(peer->WriteSlowly(ex.request, 1, 20us));
      EXPECT_EQ(peer->ReadMessage(), ex.response);
    }
  }
}

TEST_F(HttpTransportTest, PipelinedRequestsAreAnsweredInOrder) {
  Serve();
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  std::string all;
  for (int i = 0; i < 50; ++i) {
    all += i % 2 ? wire::kConn2Request1 : wire::kConn2Request0;
  }
  all += wire::kConn3Request0;  // an error answer at the end
  ASSERT_TRUE(peer->Write(all));
  for (int i = 0; i < 50; ++i) {
    // go-micro echoes the first request's headers: both answers carry Micro-Id 0.
    EXPECT_EQ(peer->ReadMessage(), wire::kConn2Response0) << i;
  }
  const std::string err = peer->ReadMessage();
  EXPECT_NE(err.find("Micro-Error: rpc: can't find method Nope\r\n"), std::string::npos);
  EXPECT_NE(err.find("Content-Length: 0\r\n\r\n"), std::string::npos);
}

// Our client against a raw acceptor: its bytes must be go-micro's, bar Host port and UA.
TEST_F(HttpTransportTest, ClientRequestsMatchCapturedBytes) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  auto t = NewHttpTransport();
  ASSERT_TRUE(t.ok());

  for (const auto& [request, response] :
       {wire::Exchange{wire::kConn0Request0, wire::kConn0Response0},
        wire::Exchange{wire::kConn1Request0, wire::kConn1Response0},
        wire::Exchange{wire::kConn3Request0, wire::kConn3Response0}}) {
    // The message go-micro's client had: the captured request's headers and body.
    Message out;
    http::HttpParser p(Kind::kRequest, 1 << 20, 1 << 20);
    p.Start(&out);
    std::size_t used = 0;
    ASSERT_EQ(p.Parse(request.data(), request.size(), &used), http::ParseStatus::kComplete);
    out.header.Delete("Content-Length");
    out.header.Delete("User-Agent");
    // As go-micro names it before canonicalisation.
    std::string id(out.header.GetOr("Micro-Id"));
    out.header.Delete("Micro-Id");
    out.header.Set("Micro-ID", id);

    std::promise<std::string> seen;
    std::thread peer_thread([&] {
      asio::ip::tcp::socket s(io);
      acceptor.accept(s);
      RawPeer peer(std::move(s));
      seen.set_value(peer.ReadMessage(Kind::kRequest));
      // Answer as Go does: many tiny segments.
      peer.WriteSlowly(response, 7, 50us);
      (void)peer.WaitClosed(2s);
    });
    auto sock = (*t)->DialSync(addr);
    ASSERT_TRUE(sock.ok()) << sock.error();
    ASSERT_TRUE((*sock)->SendSync(out).ok());
    std::string expected = Replace(std::string(request), "Host: 127.0.0.1:18080", "Host: " + addr);
    expected = Replace(expected, "User-Agent: Go-http-client/1.1",
                       "User-Agent: " + std::string(http::UserAgent()));
    EXPECT_EQ(seen.get_future().get(), expected);

    Message in;
    ASSERT_TRUE((*sock)->RecvSync(in).ok());
    const Metadata want = HeadersOf(response, Kind::kResponse);
    EXPECT_EQ(in.header, want);
    EXPECT_EQ(in.header.GetOr("Micro-Error"), want.GetOr("Micro-Error"));
    EXPECT_EQ(in.body, response.substr(response.find("\r\n\r\n") + 4));
    (*sock)->Close();
    peer_thread.join();
  }
}

TEST_F(HttpTransportTest, ClientAndServerRoundTripAndConnectionClose) {
  Serve({}, testing::EchoHandler);
  auto sock = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ((*sock)->Remote(), listener_->Addr());
  for (int i = 0; i < 20; ++i) {
    Message m{{{"Micro-Id", std::to_string(i)}, {"x-custom", "v"}}, std::string(i * 1000, 'x')};
    ASSERT_TRUE((*sock)->SendSync(m).ok());
  }
  for (int i = 0; i < 20; ++i) {  // pipelined: 20 sends, then 20 receives
    Message in;
    ASSERT_TRUE((*sock)->RecvSync(in).ok());
    // The server echoes the first request's headers; the message's own win.
    EXPECT_EQ(in.header.GetOr("Micro-Id"), std::to_string(i));
    EXPECT_EQ(in.header.GetOr("X-Custom"), "v");
    EXPECT_EQ(in.body.size(), static_cast<std::size_t>(i * 1000));
  }

  DialOptions close_opts;
  close_opts.conn_close = true;
  auto once = transport_->DialSync(listener_->Addr(), close_opts);
  ASSERT_TRUE(once.ok());
  ASSERT_TRUE((*once)->SendSync({{{"A", "b"}}, "x"}).ok());
  Message in;
  ASSERT_TRUE((*once)->RecvSync(in).ok());
  EXPECT_EQ(in.body, "x");
  Status eof = (*once)->RecvSync(in);  // the server closed after answering
  EXPECT_TRUE(IsEof(eof)) << eof.error();
}

// Bodies larger than the sockets' buffers: the write taken at once is partial and the rest
// follows asynchronously, in order, on both the client's and the server's side.
TEST_F(HttpTransportTest, BodiesLargerThanTheSocketBuffersArriveWhole) {
  Serve({}, testing::EchoHandler);
  auto sock = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(sock.ok());
  for (int round = 0; round < 2; ++round) {
    std::string body(12 * 1024 * 1024 + round, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) {
      body[i] = static_cast<char>('a' + (i * 7 + i / 4093 + round) % 26);  // a shift shows
    }
    ASSERT_TRUE((*sock)->SendSync({{{"Micro-Id", std::to_string(round)}}, body}).ok());
    Message in;
    ASSERT_TRUE((*sock)->RecvSync(in).ok());
    EXPECT_EQ(in.header.GetOr("Micro-Id"), std::to_string(round));
    ASSERT_EQ(in.body.size(), body.size());
    EXPECT_TRUE(in.body == body) << "round " << round;
  }
}

TEST(WriteNowTest, RemainingSkipsWhatWasWritten) {
  const std::string head = "head", body = "body!";
  const transport_detail::WriteBuffers both{asio::buffer(head), asio::buffer(body)};
  EXPECT_EQ(transport_detail::TotalSize(both), 9u);
  auto text = [](const transport_detail::WriteBuffers& b) {
    std::string out;
    for (const auto& part : b) out.append(static_cast<const char*>(part.data()), part.size());
    return out;
  };
  EXPECT_EQ(text(transport_detail::Remaining(both, 0)), "headbody!");
  EXPECT_EQ(text(transport_detail::Remaining(both, 3)), "dbody!");
  EXPECT_EQ(text(transport_detail::Remaining(both, 4)), "body!");
  EXPECT_EQ(text(transport_detail::Remaining(both, 6)), "dy!");
  EXPECT_EQ(text(transport_detail::Remaining(both, 9)), "");
}

TEST_F(HttpTransportTest, OversizedHeaderGets431AndServerKeepsServing) {
  TransportOptions o;
  o.max_header_bytes = 1024;
  Serve(o);
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  std::string req = "POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') +
                    "\r\nContent-Length: 0\r\n\r\n";
  ASSERT_TRUE(peer->Write(req));
  const std::string rsp = peer->ReadMessage();
  EXPECT_EQ(peer->last_status(), 431) << rsp;
  EXPECT_NE(rsp.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(peer->WaitClosed(2s));
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, OversizedBodyGets413AndServerKeepsServing) {
  TransportOptions o;
  o.max_body_bytes = 1000;
  Serve(o);
  {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    ASSERT_TRUE(peer->Write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"));
    peer->ReadMessage();
    EXPECT_EQ(peer->last_status(), 413);
    EXPECT_TRUE(peer->WaitClosed(2s));
  }
  {
    auto peer = RawPeer::Connect(port_);  // chunked: counted as it arrives
    ASSERT_TRUE(peer);
    std::string req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) req += "64\r\n" + std::string(100, 'b') + "\r\n";
    ASSERT_TRUE(peer->Write(req));
    peer->ReadMessage();
    EXPECT_EQ(peer->last_status(), 413);
    EXPECT_TRUE(peer->WaitClosed(2s));
  }
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, MalformedRequestGets400AndServerKeepsServing) {
  Serve();
  for (std::string_view bad : {std::string_view("GARBAGE\r\n\r\n"),
                               std::string_view("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
                               std::string_view("POST / HTTP/1.1\r\nBad Header\r\n\r\n")}) {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    ASSERT_TRUE(peer->Write(bad));
    peer->ReadMessage();
    EXPECT_EQ(peer->last_status(), 400) << bad;
    EXPECT_TRUE(peer->WaitClosed(2s));
  }
  // A bad request after a good one on the same connection.
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(peer->Write(std::string(wire::kConn0Request0) + "\x01\x02junk\r\n\r\n"));
  EXPECT_EQ(peer->ReadMessage(), wire::kConn0Response0);
  peer->ReadMessage();
  EXPECT_EQ(peer->last_status(), 400);
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, StalledHeaderGets408) {
  TransportOptions o;
  o.header_read_timeout = 300ms;
  Serve(o);
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(peer->Write("POST / HTTP/1.1\r\nHost: x\r\nX-Slow"));
  peer->ReadMessage(Kind::kResponse, 3000ms);
  EXPECT_EQ(peer->last_status(), 408);
  EXPECT_TRUE(peer->WaitClosed(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, SilentConnectionIsClosedAfterHeaderTimeout) {
  TransportOptions o;
  o.header_read_timeout = 300ms;
  Serve(o);
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(peer->WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, IdleKeptAliveConnectionIsClosed) {
  TransportOptions o;
  o.idle_timeout = 300ms;
  Serve(o);
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(peer->Write(wire::kConn0Request0));
  EXPECT_EQ(peer->ReadMessage(), wire::kConn0Response0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(peer->WaitClosed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, StalledBodyIsClosed) {
  TransportOptions o;
  o.idle_timeout = 300ms;
  Serve(o);
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(peer->Write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"));
  peer->ReadMessage(Kind::kResponse, 3000ms);
  EXPECT_EQ(peer->last_status(), 408);
  EXPECT_TRUE(peer->WaitClosed(3s));
  ExpectServerStillAnswers();
}

TEST_F(HttpTransportTest, ClientSeesNon200AsError) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread peer_thread([&] {
    asio::ip::tcp::socket s(io);
    acceptor.accept(s);
    RawPeer peer(std::move(s));
    peer.ReadMessage(Kind::kRequest);
    peer.Write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom");
    (void)peer.WaitClosed(2s);
  });
  auto t = NewHttpTransport();
  auto sock = (*t)->DialSync("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE((*sock)->SendSync({}).ok());
  Message in;
  Status st = (*sock)->RecvSync(in);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 500);
  EXPECT_EQ(st.error().detail, "500 Internal Server Error: boom");
  (*sock)->Close();
  peer_thread.join();
}

TEST_F(HttpTransportTest, ClientReadTimeout) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = acceptor.local_endpoint().port();
  std::thread peer_thread([&] {
    asio::ip::tcp::socket s(io);
    acceptor.accept(s);
    RawPeer peer(std::move(s));
    (void)peer.WaitClosed(3s);  // never answers
  });
  TransportOptions o;
  o.timeout = 200ms;
  auto t = NewHttpTransport(o);
  auto sock = (*t)->DialSync("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE((*sock)->SendSync({}).ok());
  Message in;
  Status st = (*sock)->RecvSync(in);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 408);
  (*sock)->Close();
  peer_thread.join();
}

TEST_F(HttpTransportTest, ListenAddresses) {
  auto t = NewHttpTransport();
  ASSERT_TRUE(t.ok());
  auto a = (*t)->Listen("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  const uint16_t port = PortOf((*a)->Addr());
  EXPECT_EQ((*a)->Addr(), "127.0.0.1:" + std::to_string(port));
  // A range whose first port is taken binds the next free one.
  const std::string range = "127.0.0.1:" + std::to_string(port) + "-" + std::to_string(port + 20);
  auto b = (*t)->Listen(range);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_GT(PortOf((*b)->Addr()), port);
  // The same port again fails.
  EXPECT_FALSE((*t)->Listen((*a)->Addr()).ok());
  EXPECT_FALSE((*t)->Listen("no-port").ok());
  EXPECT_FALSE((*t)->Listen("127.0.0.1:9-1").ok());
  auto v6 = (*t)->Listen("[::1]:0");
  if (v6.ok()) {
    EXPECT_EQ((*v6)->Addr().rfind("[::1]:", 0), 0u);
  }
  // Dial to a closed port fails promptly.
  (*a)->Close();
  (*b)->Close();
  auto refused = (*t)->DialSync("127.0.0.1:" + std::to_string(port));
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace micro
