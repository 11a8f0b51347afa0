// Hostile clients at a real RPC server's transport listener (HTTP on loopback, raw sockets):
// slowloris, header floods, bad or conflicting lengths, deep JSON, invalid UTF-8, and a
// pipelined flood. Each gets a clear answer (or a closed connection), never a crash or a hang,
// and the server keeps answering everyone else.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rpc/rpc_test_util.h"
#include "transport/test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using testing::PortOf;
using testing::RawPeer;
using testing_util::GreeterHandler;
using testing_util::RpcPair;

std::string JsonCall(std::string_view body, std::string_view extra_headers = {}) {
  return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Micro-Service: greeter\r\nMicro-Endpoint: Greeter.Hello\r\nMicro-Id: 1\r\n" +
         std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}

class HostileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = RpcPair::Make("http", {}, {}, {.header_read_timeout = 300ms});
    ASSERT_TRUE(pair_.server->Handle(GreeterHandler()).ok());
    ASSERT_TRUE(pair_.server->Start().ok());
    port_ = PortOf(pair_.server->Address());
    ASSERT_NE(port_, 0);
  }
  void TearDown() override { (void)pair_.server->Stop(); }

  // A well-behaved caller on a fresh connection is answered.
  void ExpectServerStillAnswers() {
    auto peer = RawPeer::Connect(port_);
    ASSERT_TRUE(peer);
    ASSERT_TRUE(peer->Write(JsonCall(R"({"name":"ok"})")));
    Message m;
    ASSERT_FALSE(peer->ReadMessage(http::HttpParser::Kind::kResponse, 5000ms, &m).empty());
    EXPECT_EQ(peer->last_status(), 200);
    EXPECT_EQ(m.body, "{\"msg\":\"Hello ok\"}\n");  // Go's JSON encoder ends with a newline
  }

  // Sends request bytes and returns the status and Micro-Error of the answer (0 when the
  // connection closed without one).
  std::pair<int, std::string> Answer(std::string_view bytes) {
    auto peer = RawPeer::Connect(port_);
    if (!peer || !peer->Write(bytes)) return {-1, ""};
    Message m;
    if (peer->ReadMessage(http::HttpParser::Kind::kResponse, 5000ms, &m).empty()) return {0, ""};
    return {peer->last_status(), std::string(m.header.GetOr("Micro-Error"))};
  }

  RpcPair pair_;
  uint16_t port_ = 0;
};

TEST_F(HostileClientTest, SlowlorisIsCutOffByTheWholeHeaderDeadline) {
  // One byte every 40 ms never lets a read time out, but the header as a whole must arrive
  // within header_read_timeout (300 ms here), as Go's ReadHeaderTimeout.
  std::vector<std::unique_ptr<RawPeer>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(RawPeer::Connect(port_));
    ASSERT_TRUE(slow.back());
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string head = "POST / HTTP/1.1\r\nHost: x\r\nX-Drip: ";
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    for (auto& p : slow) closed = !p->Write(i == 0 ? head : "a") || closed;
    std::this_thread::sleep_for(40ms);
    if (i == 3) ExpectServerStillAnswers();  // others are served meanwhile
    closed = closed || slow.front()->WaitClosed(1ms);
  }
  EXPECT_TRUE(slow.front()->WaitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ExpectServerStillAnswers();
}

TEST_F(HostileClientTest, HeaderFloodsAreRefusedOrAnsweredNotHoarded) {
  // Over the header byte limit (64 KiB by default): 431.
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Answer(JsonCall(R"({"name":"a"})", big)).first, 431);
  // Many small headers under the limit: answered, and quickly (no quadratic insert).
  std::string many;
  for (int i = 0; i < 4000; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Answer(JsonCall(R"({"name":"a"})", many)).first, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ExpectServerStillAnswers();
}

TEST_F(HostileClientTest, BadAndConflictingLengthsAre400) {
  const std::string head =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Micro-Service: greeter\r\nMicro-Endpoint: Greeter.Hello\r\n";
  EXPECT_EQ(Answer(head + "Content-Length: -1\r\n\r\n{}").first, 400);
  EXPECT_EQ(Answer(head + "Content-Length: 99999999999999999999999\r\n\r\n{}").first, 400);
  EXPECT_EQ(Answer(head + "Content-Length: 10\r\nContent-Length: 2\r\n\r\n{}").first, 400);
  // Request smuggling: both framings at once.
  EXPECT_EQ(
      Answer(head + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
          .first,
      400);
  // A length past the transport's body limit: refused from the header alone, nothing buffered.
  EXPECT_EQ(Answer(head + "Content-Length: 1099511627776\r\n\r\n{}").first, 413);
  ExpectServerStillAnswers();
}

TEST_F(HostileClientTest, DeepJsonAndInvalidUtf8AreMicroErrors) {
  const std::string deep =
      R"({"name":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto [status, error] = Answer(JsonCall(deep));
  EXPECT_EQ(status, 200);  // as go-micro's HTTP transport: the error travels in Micro-Error
  EXPECT_NE(error.find("\"code\":400"), std::string::npos) << error;

  std::tie(status, error) = Answer(JsonCall("{\"name\":\"\xC3\x28\"}"));
  EXPECT_EQ(status, 200);
  EXPECT_NE(error.find("\"code\":400"), std::string::npos) << error;
  ExpectServerStillAnswers();
}

TEST_F(HostileClientTest, PipelinedFloodIsAnsweredInOrder) {
  auto peer = RawPeer::Connect(port_);
  ASSERT_TRUE(peer);
  std::string flood;
  constexpr int kRequests = 2000;
  for (int i = 0; i < kRequests; ++i) flood += JsonCall(R"({"name":")" + std::to_string(i) + "\"}");
  std::thread writer([&] { peer->Write(flood); });
  for (int i = 0; i < kRequests; ++i) {
    Message m;
    ASSERT_FALSE(peer->ReadMessage(http::HttpParser::Kind::kResponse, 10000ms, &m).empty()) << i;
    ASSERT_EQ(m.body, R"({"msg":"Hello )" + std::to_string(i) + "\"}\n");
  }
  writer.join();
  ExpectServerStillAnswers();
}

}  // namespace
}  // namespace micro
