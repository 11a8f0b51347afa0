// The in-process memory transport and the named transport table.
#include <gtest/gtest.h>

#include "micro/transport.h"
#include "transport/test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

TEST(MemoryTransportTest, ListenPicksAPortAndMessagesFlowBothWays) {
  auto t = NewMemoryTransport();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->String(), "memory");
  auto l = (*t)->Listen("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  const uint16_t port = testing::PortOf((*l)->Addr());
  EXPECT_GE(port, 10000);
  EXPECT_LE(port, 29999);
  (*l)->Start(testing::EchoHandler);

  auto other = NewMemoryTransport();  // any memory transport of the process can dial
  auto s = (*other)->DialSync((*l)->Addr());
  ASSERT_TRUE(s.ok()) << s.error();
  for (int i = 0; i < 100; ++i) {
    Message m{{{"Micro-Id", std::to_string(i)}}, "body " + std::to_string(i)};
    ASSERT_TRUE((*s)->SendSync(m).ok());
  }
  for (int i = 0; i < 100; ++i) {
    Message in;
    ASSERT_TRUE((*s)->RecvSync(in).ok());
    EXPECT_EQ(in.header.GetOr("Micro-Id"), std::to_string(i));
    EXPECT_EQ(in.body, "body " + std::to_string(i));
  }
  EXPECT_EQ((*s)->Remote(), (*l)->Addr());
  (*s)->Close();
  Message in;
  EXPECT_FALSE((*s)->RecvSync(in).ok());
  (*l)->Close();
  EXPECT_FALSE((*other)->DialSync((*l)->Addr()).ok());
}

TEST(MemoryTransportTest, SameAddressTwiceFails) {
  auto t = NewMemoryTransport();
  auto a = (*t)->Listen("host:12345");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->Addr(), "host:12345");
  EXPECT_FALSE((*t)->Listen("host:12345").ok());
  (*a)->Close();
  EXPECT_TRUE((*t)->Listen("host:12345").ok());
}

TEST(TransportTableTest, BuiltInsAndUnknownNames) {
  auto names = Transports().Names();
  EXPECT_EQ(names, (std::vector<std::string>{"http", "memory"}));
  auto http = Transports().Create("http", {});
  ASSERT_TRUE(http.ok());
  EXPECT_EQ((*http)->String(), "http");
  auto mem = Transports().Create("memory", {});
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ((*mem)->String(), "memory");
  auto bad = Transports().Create("carrier-pigeon", {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 404);
  EXPECT_EQ(bad.error().detail, "unknown transport \"carrier-pigeon\" (known: http, memory)");
}

TEST(TransportTableTest, GetHeaderFallsBackToXPrefix) {
  Metadata h{{"X-Micro-Error", "boom"}, {"micro-id", "3"}};
  EXPECT_EQ(GetHeader(h, "Micro-Error").value_or(""), "boom");
  EXPECT_EQ(GetHeader(h, "MICRO-ID").value_or(""), "3");
  EXPECT_FALSE(GetHeader(h, "Micro-Service").has_value());
}

}  // namespace
}  // namespace micro
