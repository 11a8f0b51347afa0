// WebSocket (RFC 6455) over http::Server: Debian's python3 websocket client as the real peer,
// raw sockets for what it does not send (unmasked, fragmented, oversized, bad UTF-8, bad
// handshakes), and the frame decoder on its own.
#include "http/websocket.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "http/server_test_util.h"
#include "http/websocket_frame.h"

namespace micro::http::websocket_test {
namespace {

using namespace std::chrono_literals;
using server_testing::Eventually;
using server_testing::RawConn;
using server_testing::RunCommand;
using server_testing::TestServer;
using websocket_detail::EncodeFrame;
using websocket_detail::FrameDecoder;
using Kind = FrameDecoder::Event::Kind;

constexpr uint8_t kMask[4] = {0x12, 0x34, 0x56, 0x78};

// What the echo server saw, for the test to check.
struct Seen {
  std::mutex mu;
  std::vector<std::string> protocols;
  std::vector<Error> ends;  // how each connection's Read loop ended
  std::vector<uint16_t> close_codes;

  std::size_t ended() {
    std::lock_guard lock(mu);
    return ends.size();
  }
};

// Not built inside the coroutine: g++ 12 rejects string literals in a braced list there
// ("array used as initializer").
WebSocketOptions TestOptions() {
  return {.protocols = {"chat", "binary"}, .max_message_bytes = 1 << 20};
}

// Echoes every message back as it came ("close-me" makes it close with 4000 "bye").
ServerHandler EchoServer(Seen& seen) {
  return [&seen](ServerRequest& r) -> asio::awaitable<ServerReply> {
    ServerReply reply;
    if (r.path != "/ws") co_return ServerReply{.status = 404};
    reply.take_over = [&seen, &r](ByteStream& raw) -> asio::awaitable<void> {
      auto ws = co_await AcceptWebSocket(raw, r, TestOptions());
      if (!ws.ok()) {
        std::lock_guard lock(seen.mu);
        seen.ends.push_back(ws.error());
        co_return;
      }
      {
        std::lock_guard lock(seen.mu);
        seen.protocols.push_back((*ws)->protocol());
      }
      for (;;) {
        auto m = co_await (*ws)->Read();
        if (!m.ok()) {
          std::lock_guard lock(seen.mu);
          seen.ends.push_back(m.error());
          seen.close_codes.push_back((*ws)->close_code());
          co_return;
        }
        if (m->data == "close-me") {
          co_await (*ws)->Close(4000, "bye");
          std::lock_guard lock(seen.mu);
          seen.ends.push_back(errors::New("test", "we closed", 0));
          seen.close_codes.push_back((*ws)->close_code());
          co_return;
        }
        if (Status s = co_await (*ws)->Write(m->data, m->binary); !s) co_return;
      }
    };
    co_return reply;
  };
}

// Runs a Python websocket-client script (Debian's python3-websocket) against url; returns its
// exit code and puts what it printed (stdout and stderr) in *out.
int RunPythonClient(const std::string& source, const std::string& url, std::string* out) {
  const std::string script =
      ::testing::TempDir() + "/micro_websocket_" + std::to_string(::getpid()) + ".py";
  std::ofstream(script) << source;
  const int code = RunCommand("/usr/bin/python3 " + script + " " + url + " 2>&1", out);
  std::remove(script.c_str());
  return code;
}

TEST(WebSocketTest, PythonClientTextBinaryBigPingAndClose) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string source = R"(import sys, websocket
ws = websocket.create_connection(sys.argv[1], subprotocols=["binary", "chat"], timeout=10)
assert ws.subprotocol == "chat", ws.subprotocol
ws.send("h\u00e9llo")
assert ws.recv() == "h\u00e9llo"
ws.send_binary(bytes(range(256)))
op, data = ws.recv_data()
assert op == websocket.ABNF.OPCODE_BINARY and data == bytes(range(256)), (op, data)
big = bytes((i * 7) % 251 for i in range(200000))
ws.send_binary(big)
op, data = ws.recv_data()
assert op == websocket.ABNF.OPCODE_BINARY and data == big, len(data)
text = "\u20ac" * 30000
ws.send(text)
assert ws.recv() == text
ws.ping("are you there")
op, frame = ws.recv_data_frame(True)
assert op == websocket.ABNF.OPCODE_PONG and frame.data == b"are you there", (op, frame.data)
ws.close(status=1000, reason=b"done")
print("ok")
)";
  std::string out;
  const int code = RunPythonClient(source, "ws://" + server->Addr() + "/ws", &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "ok\n");
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 1; }));
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.protocols, std::vector<std::string>{"chat"});  // our preference
  EXPECT_EQ(seen.ends[0].code, 499);
  EXPECT_EQ(seen.ends[0].detail, "closed 1000: done");
  EXPECT_EQ(seen.close_codes[0], 1000);
}

TEST(WebSocketTest, PythonClientSeesTheServersClose) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string source = R"(import sys, websocket
ws = websocket.create_connection(sys.argv[1], timeout=10)
assert ws.subprotocol is None, ws.subprotocol
ws.send("close-me")
op, frame = ws.recv_data_frame(True)
assert op == websocket.ABNF.OPCODE_CLOSE, op
assert frame.data == (4000).to_bytes(2, "big") + b"bye", frame.data
print("ok")
)";
  std::string out;
  const auto start = Clock::now();
  const int code = RunPythonClient(source, "ws://" + server->Addr() + "/ws", &out);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "ok\n");
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 1; }));
  EXPECT_LT(Clock::now() - start, 5s);
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.protocols, std::vector<std::string>{""});
  EXPECT_EQ(seen.close_codes[0], 1000);  // python answers any close with 1000
}

// A raw client after a successful handshake.
class RawWebSocket {
 public:
  explicit RawWebSocket(uint16_t port) : conn_(port) {
    ok_ = conn_.Send(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ok_ = ok_ && conn_.ReadUntil("\r\n\r\n");
    if (!ok_) return;
    const auto end = conn_.buffer().find("\r\n\r\n");
    head_ = conn_.buffer().substr(0, end + 4);
    decoder_.Feed(conn_.buffer().data() + end + 4, conn_.buffer().size() - end - 4);
    conn_.buffer().clear();
  }
  bool ok() const { return ok_; }
  const std::string& head() const { return head_; }
  bool Send(std::string_view bytes) { return conn_.Send(bytes); }
  // The next frame the server sends (a kNeedMore event on timeout or end of stream).
  FrameDecoder::Event Next(Duration timeout = 5s) {
    const auto until = Clock::now() + timeout;
    for (;;) {
      auto ev = decoder_.Next();
      if (ev.kind != Kind::kNeedMore || Clock::now() > until) return ev;
      auto chunk = conn_.ReadSome(until - Clock::now());
      if (!chunk || chunk->empty()) return ev;
      decoder_.Feed(chunk->data(), chunk->size());
    }
  }
  RawConn& conn() { return conn_; }

 private:
  RawConn conn_;
  bool ok_ = false;
  std::string head_;
  FrameDecoder decoder_{1 << 24, /*require_mask=*/false};
};

TEST(WebSocketTest, HandshakeAnswersWithTheRfcAcceptValue) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  RawWebSocket ws(server.port());
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(ws.head(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_EQ(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketTest, FirstFramesInTheHandshakePacketAreNotLost) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  RawConn c(server.port());
  ASSERT_TRUE(
      c.Send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
             EncodeFrame(websocket_detail::kText, "early", true, kMask)));
  ASSERT_TRUE(c.ReadUntil("early"));
  EXPECT_EQ(c.buffer().substr(c.buffer().size() - 7), std::string("\x81\x05", 2) + "early");
}

TEST(WebSocketTest, UnmaskedClientFrameIsClosedWith1002) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  RawWebSocket ws(server.port());
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE(ws.Send(EncodeFrame(websocket_detail::kText, "no mask")));
  auto ev = ws.Next();
  ASSERT_EQ(ev.kind, Kind::kClose) << ev.error;
  EXPECT_EQ(ev.code, 1002);
  EXPECT_TRUE(ws.conn().ReadToEof(5s));  // the server closes (after its linger at most)
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 1; }));
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.ends[0].code, 400);
}

TEST(WebSocketTest, FragmentedMessageIsReassembledAroundAPing) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  RawWebSocket ws(server.port());
  ASSERT_TRUE(ws.ok());
  using namespace websocket_detail;
  ASSERT_TRUE(ws.Send(EncodeFrame(kText, "Hel", false, kMask) +
                      EncodeFrame(kPing, "p", true, kMask) +
                      EncodeFrame(kContinuation, "l", false, kMask)));
  std::this_thread::sleep_for(50ms);  // the rest in another packet
  ASSERT_TRUE(ws.Send(EncodeFrame(kContinuation, "o \xe2\x82", false, kMask) +
                      EncodeFrame(kContinuation, "\xac", true, kMask)));  // a split euro sign
  auto pong = ws.Next();
  ASSERT_EQ(pong.kind, Kind::kPong);
  EXPECT_EQ(pong.data, "p");
  auto msg = ws.Next();
  ASSERT_EQ(msg.kind, Kind::kMessage) << msg.error;
  EXPECT_FALSE(msg.binary);
  EXPECT_EQ(msg.data, "Hello \xe2\x82\xac");
  // Close from the client: answered with the same code, then the server closes.
  ASSERT_TRUE(ws.Send(EncodeFrame(kClose, ClosePayload(1001, "going"), true, kMask)));
  auto close = ws.Next();
  ASSERT_EQ(close.kind, Kind::kClose);
  EXPECT_EQ(close.code, 1001);
  EXPECT_TRUE(ws.conn().ReadToEof(5s));
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 1; }));
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.ends[0].code, 499);
  EXPECT_EQ(seen.ends[0].detail, "closed 1001: going");
}

TEST(WebSocketTest, MessageOverTheLimitIsClosedWith1009) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  using namespace websocket_detail;
  {
    // One frame that says it is too big: refused from its header.
    RawWebSocket ws(server.port());
    ASSERT_TRUE(ws.ok());
    std::string frame = EncodeFrame(kBinary, std::string((1 << 20) + 1, 'a'), true, kMask);
    ASSERT_TRUE(ws.Send(frame.substr(0, 14)));
    auto ev = ws.Next();
    ASSERT_EQ(ev.kind, Kind::kClose) << ev.error;
    EXPECT_EQ(ev.code, 1009);
  }
  {
    // Fragments that add up to too much.
    RawWebSocket ws(server.port());
    ASSERT_TRUE(ws.ok());
    const std::string part(600 * 1024, 'b');
    ASSERT_TRUE(ws.Send(EncodeFrame(kBinary, part, false, kMask)));
    ASSERT_TRUE(ws.Send(EncodeFrame(kContinuation, part, true, kMask)));
    auto ev = ws.Next();
    ASSERT_EQ(ev.kind, Kind::kClose) << ev.error;
    EXPECT_EQ(ev.code, 1009);
    EXPECT_TRUE(ws.conn().ReadToEof(5s));
  }
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 2; }));
}

TEST(WebSocketTest, InvalidUtf8TextIsClosedWith1007) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  RawWebSocket ws(server.port());
  ASSERT_TRUE(ws.ok());
  ASSERT_TRUE(ws.Send(EncodeFrame(websocket_detail::kText, "bad \xc3\x28", true, kMask)));
  auto ev = ws.Next();
  ASSERT_EQ(ev.kind, Kind::kClose) << ev.error;
  EXPECT_EQ(ev.code, 1007);
  // Binary messages may hold anything.
  RawWebSocket bin(server.port());
  ASSERT_TRUE(bin.ok());
  ASSERT_TRUE(bin.Send(EncodeFrame(websocket_detail::kBinary, "bad \xc3\x28", true, kMask)));
  auto echo = bin.Next();
  ASSERT_EQ(echo.kind, Kind::kMessage) << echo.error;
  EXPECT_TRUE(echo.binary);
  EXPECT_EQ(echo.data, "bad \xc3\x28");
}

TEST(WebSocketTest, BadHandshakesGet400) {
  Seen seen;
  TestServer server({}, EchoServer(seen));
  ASSERT_TRUE(server.ok()) << server.error();
  const std::string base =
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  for (const std::string& rest : {
           std::string("Sec-WebSocket-Version: 13\r\n\r\n"),  // no key
           std::string("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 8\r\n\r\n"),
           std::string("Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n"),
       }) {
    RawConn c(server.port());
    ASSERT_TRUE(c.Send(base + rest));
    ASSERT_TRUE(c.ReadToEof(5s)) << rest;
    EXPECT_EQ(c.buffer().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << c.buffer();
    EXPECT_NE(c.buffer().find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  }
  ASSERT_TRUE(Eventually([&] { return seen.ended() == 3; }));
  std::lock_guard lock(seen.mu);
  for (const auto& e : seen.ends) EXPECT_EQ(e.code, 400);
}

TEST(WebSocketFrameTest, LengthsRoundTripIn7And16And64Bits) {
  using namespace websocket_detail;
  for (std::size_t size : {0, 1, 125, 126, 127, 65535, 65536, 70000}) {
    const std::string payload(size, 'z');
    const std::string frame = EncodeFrame(kBinary, payload, true, kMask);
    const std::size_t header = size < 126 ? 2 : size <= 65535 ? 4 : 10;
    EXPECT_EQ(frame.size(), header + 4 + size) << size;
    FrameDecoder d(1 << 20);
    // Byte by byte for small frames, in two halves for large ones.
    if (size < 200) {
      for (char c : frame) {
        auto ev = d.Next();
        EXPECT_EQ(ev.kind, Kind::kNeedMore);
        d.Feed(&c, 1);
      }
    } else {
      d.Feed(frame.data(), frame.size() / 2);
      EXPECT_EQ(d.Next().kind, Kind::kNeedMore);
      d.Feed(frame.data() + frame.size() / 2, frame.size() - frame.size() / 2);
    }
    auto ev = d.Next();
    ASSERT_EQ(ev.kind, Kind::kMessage) << size << " " << ev.error;
    EXPECT_TRUE(ev.binary);
    EXPECT_EQ(ev.data, payload);
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(WebSocketFrameTest, ProtocolErrors) {
  using namespace websocket_detail;
  auto first = [](std::string bytes, bool require_mask = true) {
    FrameDecoder d(1000, require_mask);
    d.Feed(bytes.data(), bytes.size());
    auto ev = d.Next();
    while (ev.kind == Kind::kMessage || ev.kind == Kind::kPing) ev = d.Next();
    return ev;
  };
  EXPECT_EQ(first("\xc1\x80" + std::string(4, '\0')).code, 1002);      // RSV1
  EXPECT_EQ(first("\x83\x80" + std::string(4, '\0')).code, 1002);      // opcode 3
  EXPECT_EQ(first(EncodeFrame(kPing, "x", false, kMask)).code, 1002);  // fragmented control
  EXPECT_EQ(first(EncodeFrame(kPing, std::string(126, 'x'), true, kMask)).code, 1002);
  EXPECT_EQ(first(EncodeFrame(kContinuation, "x", true, kMask)).code, 1002);
  EXPECT_EQ(
      first(EncodeFrame(kText, "a", false, kMask) + EncodeFrame(kText, "b", true, kMask)).code,
      1002);
  EXPECT_EQ(first(std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10)).code, 1002);    // 2^63
  EXPECT_EQ(first(std::string("\x82\xff\0\0\0\0\0\0\x03\xe9", 10)).code, 1009);  // 1001 > 1000
  EXPECT_EQ(first(EncodeFrame(kClose, "\x03", true, kMask)).code, 1002);
  EXPECT_EQ(first(EncodeFrame(kClose, ClosePayload(1005, ""), true, kMask)).code, 1002);
  EXPECT_EQ(first(EncodeFrame(kClose, ClosePayload(1000, "\xff"), true, kMask)).code, 1007);
  auto none = first(EncodeFrame(kClose, "", true, kMask));
  EXPECT_EQ(none.kind, Kind::kClose);
  EXPECT_EQ(none.code, 1005);
  FrameDecoder lenient(1000, /*require_mask=*/false);
  const std::string unmasked = EncodeFrame(kText, "ok");
  lenient.Feed(unmasked.data(), unmasked.size());
  EXPECT_EQ(lenient.Next().data, "ok");
  // An error sticks.
  FrameDecoder d(10);
  d.Feed("\x81\x05hello", 7);
  EXPECT_EQ(d.Next().kind, Kind::kError);
  d.Feed("\x81\x80\0\0\0\0", 6);
  EXPECT_EQ(d.Next().kind, Kind::kError);
}

TEST(WebSocketFrameTest, Utf8) {
  using websocket_detail::IsValidUtf8;
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // lone continuation
  EXPECT_EQ(websocket_detail::ClosePayload(1000, std::string(200, 'a')).size(), 125u);
  // A cut never splits a character.
  std::string euros;
  for (int i = 0; i < 60; ++i) euros += "\xe2\x82\xac";
  const std::string cut = websocket_detail::ClosePayload(1000, euros);
  EXPECT_TRUE(IsValidUtf8(cut.substr(2)));
  EXPECT_EQ(cut.size(), 2u + 123u);
}

}  // namespace
}  // namespace micro::http::websocket_test
