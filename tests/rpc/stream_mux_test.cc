// Several streams on one connection, told apart by Micro-Stream (go-micro's server demultiplexes
// a connection the same way): raw HTTP/1.1 frames on a real socket, two streams interleaved with
// each other and with a unary call; one ends while the other goes on; a stray EOS closes the
// connection as go-micro does.
#include <gtest/gtest.h>

#include <asio/read.hpp>
#include <map>

#include "rpc/rpc_test_util.h"
#include "support/raw_http.h"

namespace micro {
namespace {

using asio::ip::tcp;
using micro::testing::RawResponse;
using micro::testing::ReadResponse;
using MuxStream = TypedServerStream<greeter::Request, greeter::Response>;

// Echoes "<X-Who of the opening>:<name>" until the client ends the stream.
Handler MuxEcho() {
  Handler h{.name = "Streamer"};
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Bidi", StreamKind::kBidiStream, [](Context& ctx, MuxStream& s) {
        const std::string who(ctx.metadata().GetOr("X-Who"));
        greeter::Request req;
        while (s.Recv(req)) {
          greeter::Response rsp;
          rsp.set_msg(who + ":" + req.name());
          if (Status st = s.Send(rsp); !st) return st;
        }
        return s.status();
      }));
  return h;
}

class StreamMuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = testing_util::RpcPair::Make("http", {.name = "streamer"});
    ASSERT_TRUE(p_.server->Handle(MuxEcho()).ok());
    ASSERT_TRUE(p_.server->Handle(testing_util::GreeterHandler()).ok());
    ASSERT_TRUE(p_.server->Start().ok());
    const std::string addr = p_.server->Address();
    sock_.connect({asio::ip::make_address("127.0.0.1"),
                   static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)))});
  }

  // One stream message as go-micro's client writes it (JSON body; eos: Micro-Error: EOS).
  void SendStream(const std::string& stream, const std::string& name, bool eos = false,
                  const std::string& who = "") {
    const std::string body = eos ? "" : "{\"name\":\"" + name + "\"}";
    std::string req = "POST / HTTP/1.1\r\nHost: " + p_.server->Address() +
                      "\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nContent-Type: application/json\r\nAccept: application/json"
                      "\r\nMicro-Endpoint: Streamer.Bidi\r\nMicro-Method: Streamer.Bidi"
                      "\r\nMicro-Service: streamer\r\nMicro-Id: " +
                      stream + "\r\nMicro-Stream: " + stream + "\r\n";
    if (eos) req += "Micro-Error: EOS\r\n";
    if (!who.empty()) req += "X-Who: " + who + "\r\n";
    req += "\r\n" + body;
    asio::write(sock_, asio::buffer(req));
  }

  void SendUnary(const std::string& id, const std::string& name) {
    const std::string body = "{\"name\":\"" + name + "\"}";
    const std::string req = "POST / HTTP/1.1\r\nHost: " + p_.server->Address() +
                            "\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\nContent-Type: application/json\r\nMicro-Endpoint: Greeter.Hello"
                            "\r\nMicro-Method: Greeter.Hello\r\nMicro-Service: streamer"
                            "\r\nMicro-Id: " +
                            id + "\r\n\r\n" + body;
    asio::write(sock_, asio::buffer(req));
  }

  // Reads n responses, keyed by Micro-Id (a stream's messages carry its id, as go-micro's
  // client numbers them; the unary calls here use other ids), each a list of "<msg>" bodies or
  // the Micro-Error text ("EOS"). Not keyed by Micro-Stream: the HTTP transport echoes the
  // connection's first request headers in every response, as go-micro's does, so a unary answer
  // carries the Micro-Stream of an opening that came first.
  std::map<std::string, std::vector<std::string>> Read(int n) {
    std::map<std::string, std::vector<std::string>> got;
    for (int i = 0; i < n; ++i) {
      RawResponse r = ReadResponse(sock_, buf_);
      const std::string key = r.headers["Micro-Id"];
      if (r.headers.count("Micro-Error")) {
        got[key].push_back(r.headers["Micro-Error"]);
        continue;
      }
      const auto start = r.body.find("\"msg\":\"");
      const auto end = r.body.find('"', start + 7);
      got[key].push_back(start == std::string::npos ? r.body
                                                    : r.body.substr(start + 7, end - start - 7));
    }
    return got;
  }

  testing_util::RpcPair p_;
  asio::io_context io_;
  tcp::socket sock_{io_};
  asio::streambuf buf_;
};

TEST_F(StreamMuxTest, TwoInterleavedStreamsAndAUnaryCallOnOneConnection) {
  SendStream("1", "", false, "alice");  // openings: discarded, as go-micro's server does
  SendStream("2", "", false, "bob");
  SendStream("1", "a1");
  SendStream("2", "b1");
  SendUnary("7", "carol");
  SendStream("1", "a2");
  auto got = Read(4);
  EXPECT_EQ(got["1"], (std::vector<std::string>{"alice:a1", "alice:a2"}));
  EXPECT_EQ(got["2"], (std::vector<std::string>{"bob:b1"}));
  EXPECT_EQ(got["7"], (std::vector<std::string>{"Hello carol"}));

  // Stream 1 ends (its handler returns: EOS back); stream 2 goes on.
  SendStream("1", "", /*eos=*/true);
  got = Read(1);
  EXPECT_EQ(got["1"], (std::vector<std::string>{"EOS"}));
  SendStream("2", "b2");
  // Stream 1 is gone on both sides: the same id opens a new stream (this is its discarded
  // opening, as go-micro would treat it), which answers nothing.
  SendStream("1", "late");
  SendStream("2", "b3");
  got = Read(2);
  EXPECT_EQ(got["2"], (std::vector<std::string>{"bob:b2", "bob:b3"}));
  EXPECT_EQ(got.size(), 1u);

  // A third stream on the same connection, then both end.
  SendStream("3", "", false, "dave");
  SendStream("3", "c1");
  SendStream("2", "", true);
  SendStream("3", "", true);
  got = Read(3);
  EXPECT_EQ(got["2"], (std::vector<std::string>{"EOS"}));
  EXPECT_EQ(got["3"], (std::vector<std::string>{"dave:c1", "EOS"}));

  // The connection still serves calls.
  SendUnary("8", "erin");
  got = Read(1);
  EXPECT_EQ(got["8"], (std::vector<std::string>{"Hello erin"}));
}

TEST_F(StreamMuxTest, StrayEosClosesTheConnection) {
  SendStream("5", "", false, "x");
  SendStream("5", "m");
  EXPECT_EQ(Read(1)["5"], (std::vector<std::string>{"x:m"}));
  SendStream("99", "", /*eos=*/true);  // never opened: go-micro closes the connection
  std::error_code ec;
  char byte;
  asio::read(sock_, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

// Our client's streams (each on its own connection) and a raw multiplexed connection at once.
TEST_F(StreamMuxTest, ClientStreamsBesideAMultiplexedConnection) {
  SendStream("1", "", false, "raw");
  Context ctx;
  ctx.metadata().Set("X-Who", "client");
  auto a =
      OpenStream<greeter::Request, greeter::Response>(*p_.client, ctx, "streamer", "Streamer.Bidi");
  auto b =
      OpenStream<greeter::Request, greeter::Response>(*p_.client, ctx, "streamer", "Streamer.Bidi");
  ASSERT_TRUE(a.ok() && b.ok());
  greeter::Request req;
  greeter::Response rsp;
  req.set_name("a");
  ASSERT_TRUE(a->Send(req).ok());
  req.set_name("b");
  ASSERT_TRUE(b->Send(req).ok());
  SendStream("1", "r");
  ASSERT_TRUE(b->Recv(rsp));
  EXPECT_EQ(rsp.msg(), "client:b");
  ASSERT_TRUE(a->Recv(rsp));
  EXPECT_EQ(rsp.msg(), "client:a");
  EXPECT_EQ(Read(1)["1"], (std::vector<std::string>{"raw:r"}));
  EXPECT_TRUE(a->Close().ok());
  EXPECT_TRUE(b->Close().ok());
}

}  // namespace
}  // namespace micro
