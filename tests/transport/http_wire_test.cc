// The HTTP framing layer alone: llhttp-based parsing into Messages and Go-exact writing.
#include "transport/http_wire.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "transport/wire_vectors.h"

namespace micro::http {
namespace {

using Kind = HttpParser::Kind;

// Parses bytes `step` at a time, each piece from a read buffer that is overwritten after its
// Parse (as a transport reuses its buffer): nothing of a piece may be used after its Parse.
Message ParseAll(Kind kind, std::string_view bytes, std::size_t step = 0) {
  HttpParser p(kind, 64 * 1024, 1 << 20);
  Message m;
  p.Start(&m);
  if (step == 0) step = bytes.size();
  std::string buffer;
  for (std::size_t i = 0; i < bytes.size(); i += step) {
    std::size_t used = 0;
    buffer.assign(bytes.substr(i, step));
    const std::string_view chunk = buffer;
    auto st = p.Parse(chunk.data(), chunk.size(), &used);
    std::fill(buffer.begin(), buffer.end(), '#');
    EXPECT_NE(st, ParseStatus::kError) << p.error_reason();
    if (st == ParseStatus::kComplete) {
      EXPECT_EQ(i + used, bytes.size());
      return m;
    }
    EXPECT_EQ(used, chunk.size());
  }
  ADD_FAILURE() << "message did not complete";
  return m;
}

TEST(HttpWireTest, ParsesCapturedRequestLikeGo) {
  Message m = ParseAll(Kind::kRequest, wire::kConn0Request0);
  EXPECT_EQ(m.body, "{\"name\":\"John\"}\n");
  EXPECT_FALSE(m.header.Contains("Host"));  // Go moves Host out of the header map
  EXPECT_EQ(m.header.GetOr("Content-Length"), "16");
  EXPECT_EQ(m.header.GetOr("micro-id"), "0");
  EXPECT_EQ(m.header.GetOr("Timeout"), "5000000000");
  EXPECT_EQ(m.header.size(), 9u);
}

TEST(HttpWireTest, OneByteAtATimeGivesTheSameMessage) {
  for (const auto& conn : wire::Connections()) {
    for (const auto& ex : conn) {
      for (std::size_t step : {1, 7, 13}) {  // names and values cut at every place
        EXPECT_EQ(ParseAll(Kind::kRequest, ex.request, step), ParseAll(Kind::kRequest, ex.request));
        EXPECT_EQ(ParseAll(Kind::kResponse, ex.response, step),
                  ParseAll(Kind::kResponse, ex.response));
      }
    }
  }
}

TEST(HttpWireTest, StopsAfterEachPipelinedMessage) {
  std::string two = std::string(wire::kConn2Request0) + std::string(wire::kConn2Request1);
  HttpParser p(Kind::kRequest, 64 * 1024, 1 << 20);
  Message m;
  p.Start(&m);
  std::size_t used = 0;
  ASSERT_EQ(p.Parse(two.data(), two.size(), &used), ParseStatus::kComplete);
  EXPECT_EQ(used, wire::kConn2Request0.size());
  EXPECT_EQ(m.header.GetOr("Micro-Id"), "0");
  p.Start(&m);
  std::size_t used2 = 0;
  ASSERT_EQ(p.Parse(two.data() + used, two.size() - used, &used2), ParseStatus::kComplete);
  EXPECT_EQ(used + used2, two.size());
  EXPECT_EQ(m.header.GetOr("Micro-Id"), "1");
}

TEST(HttpWireTest, CanonicalisesNamesAndKeepsTheFirstValue) {
  const std::string req =
      "POST / HTTP/1.1\r\nhost: x\r\nmicro-ID: 7\r\nX-Dup: a\r\nx-dup: b\r\n"
      "Content-Length: 0\r\n\r\n";
  Message m = ParseAll(Kind::kRequest, req);
  ASSERT_EQ(m.header.size(), 3u);
  auto it = m.header.begin();
  EXPECT_EQ(it->first, "Content-Length");
  ++it;
  EXPECT_EQ(it->first, "Micro-Id");
  EXPECT_EQ(m.header.GetOr("X-Dup"), "a");
}

TEST(HttpWireTest, ChunkedRequestBodies) {
  const std::string req =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Message m = ParseAll(Kind::kRequest, req, 3);
  EXPECT_EQ(m.body, "hello world");
  EXPECT_FALSE(m.header.Contains("Transfer-Encoding"));
}

TEST(HttpWireTest, LimitsAndMalformedInput) {
  {
    HttpParser p(Kind::kRequest, 100, 1000);
    Message m;
    p.Start(&m);
    std::string req = "POST / HTTP/1.1\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n";
    std::size_t used = 0;
    EXPECT_EQ(p.Parse(req.data(), req.size(), &used), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 431);
  }
  {
    HttpParser p(Kind::kRequest, 1000, 10);
    Message m;
    p.Start(&m);
    std::string req = "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
    std::size_t used = 0;
    EXPECT_EQ(p.Parse(req.data(), req.size(), &used), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 413);
  }
  {
    HttpParser p(Kind::kRequest, 1000, 10);
    Message m;
    p.Start(&m);
    std::string req = "NOT HTTP AT ALL\r\n\r\n";
    std::size_t used = 0;
    EXPECT_EQ(p.Parse(req.data(), req.size(), &used), ParseStatus::kError);
    EXPECT_EQ(p.error_status(), 400);
    // The parser is usable again after Start.
    p.Start(&m);
    std::string ok = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
    EXPECT_EQ(p.Parse(ok.data(), ok.size(), &used), ParseStatus::kComplete);
    EXPECT_EQ(m.body, "hi");
  }
}

TEST(HttpWireTest, ResponseWithoutLengthEndsAtEof) {
  HttpParser p(Kind::kResponse, 1000, 1000);
  Message m;
  p.Start(&m);
  std::string rsp = "HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nbody bytes";
  std::size_t used = 0;
  EXPECT_EQ(p.Parse(rsp.data(), rsp.size(), &used), ParseStatus::kNeedMore);
  EXPECT_EQ(p.Finish(), ParseStatus::kComplete);
  EXPECT_EQ(m.body, "body bytes");
  EXPECT_EQ(p.status_code(), 200);
}

TEST(HttpWireTest, ResponseHeadIsGoByteForByte) {
  // The first request's headers echoed, the server's set over them, Content-Length first.
  Message first = ParseAll(Kind::kRequest, wire::kConn0Request0);
  Metadata server{{"Content-Type", "application/json"},
                  {"Micro-Endpoint", "Greeter.Hello"},
                  {"Micro-Method", "Greeter.Hello"},
                  {"Micro-Service", "greeter"}};
  std::string out;
  const std::string body = "{\"msg\":\"Hello John\"}\n";
  AppendResponseHead(out, &first.header, server, body.size());
  EXPECT_EQ(out + body, wire::kConn0Response0);

  // Error form: empty body, Content-Length: 0 last.
  Message nope = ParseAll(Kind::kRequest, wire::kConn3Request0);
  Metadata err = server;
  err.Set("Micro-Endpoint", "Greeter.Nope");
  err.Set("Micro-Method", "Greeter.Nope");
  err.Set("Micro-Error", "rpc: can't find method Nope");
  err.Set("X-Micro-Error", "rpc: can't find method Nope");
  out.clear();
  AppendResponseHead(out, &nope.header, err, 0);
  EXPECT_EQ(out, wire::kConn3Response0);
}

TEST(HttpWireTest, RequestHeadIsGoByteForByteBarUserAgent) {
  Metadata h{{"Accept", "application/json"},      {"Content-Type", "application/json"},
             {"Micro-Endpoint", "Greeter.Hello"}, {"Micro-ID", "0"},
             {"Micro-Method", "Greeter.Hello"},   {"Micro-Service", "greeter"},
             {"Timeout", "5000000000"},           {"User-Agent", "Go-http-client/1.1"}};
  std::string out;
  const std::string body = "{\"name\":\"John\"}\n";
  AppendRequestHead(out, "127.0.0.1:18080", h, body.size(), false);
  EXPECT_EQ(out + body, wire::kConn0Request0);
  h.Delete("User-Agent");
  out.clear();
  AppendRequestHead(out, "127.0.0.1:18080", h, body.size(), true);
  EXPECT_NE(out.find("User-Agent: micro-cpp/"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\nContent-Length: 16\r\n"), std::string::npos);
}

TEST(HttpWireTest, HeaderInjectionIsNeutralised) {
  Metadata h{{"X-Evil", "a\r\nInjected: yes"}, {"Bad Key", "v"}, {"Bad\r\nKey", "v"}};
  std::string out;
  AppendResponseHead(out, nullptr, h, 0);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-Evil: a  Injected: yes\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpWireTest, ErrorResponsesAreWellFormed) {
  for (int status : {400, 408, 413, 431}) {
    const std::string r = ErrorResponse(status);
    HttpParser p(Kind::kResponse, 1000, 1000);
    Message m;
    p.Start(&m);
    std::size_t used = 0;
    ASSERT_EQ(p.Parse(r.data(), r.size(), &used), ParseStatus::kComplete) << r;
    EXPECT_EQ(p.status_code(), status);
    EXPECT_TRUE(p.wants_close());
  }
}

TEST(HttpWireTest, LargeBodyParsedInPlace) {
  // The transport reads a large body straight into the message: the parser reports what is
  // left and then checks bytes already in place without appending them again.
  const std::string body(20000, 'b');
  const std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  const std::string first = head + body.substr(0, 100);
  HttpParser p(Kind::kRequest, 64 * 1024, 1024 * 1024);
  Message m;
  p.Start(&m);
  std::size_t used = 0;
  ASSERT_EQ(p.Parse(first.data(), first.size(), &used), ParseStatus::kNeedMore);
  EXPECT_EQ(used, first.size());
  EXPECT_EQ(m.body.size(), 100u);
  ASSERT_EQ(p.body_remaining(), body.size() - 100);
  m.body.resize(body.size());
  std::copy(body.begin() + 100, body.end(), m.body.begin() + 100);
  ASSERT_EQ(p.ParseBodyInPlace(m.body.data() + 100, 9000), ParseStatus::kNeedMore);
  EXPECT_EQ(p.body_remaining(), body.size() - 9100);
  ASSERT_EQ(p.ParseBodyInPlace(m.body.data() + 9100, body.size() - 9100), ParseStatus::kComplete);
  EXPECT_EQ(m.body, body);
  EXPECT_EQ(p.body_remaining(), 0u);
}

}  // namespace
}  // namespace micro::http
