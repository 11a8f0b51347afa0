// The NATS transport: the shared transport contract against a real nats-server, and what is
// NATS-specific (subjects as addresses, no responders, server restarts).
#include <gtest/gtest.h>
#include <micro/testing/transport_contract.h>

#include <chrono>
#include <thread>

#include "micro/nats/nats.h"
#include "nats_env.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using nats_test::Nats;

TransportOptions TransportWithServer(TransportOptions o) {
  o.addrs = {Nats().address()};
  return o;
}

class NatsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = nats_test::SkipReason(); !why.empty()) GTEST_SKIP() << why;
  }
};

TEST_F(NatsTransportTest, NamedInTheTableWhenLinked) {
  EXPECT_TRUE(Transports().Has("nats"));
  auto t = Transports().Create("nats", TransportWithServer({}));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ((*t)->String(), "nats");
}

TEST_F(NatsTransportTest, ListenAddressIsASubject) {
  auto t = nats::NewTransport(TransportWithServer({}));
  ASSERT_TRUE(t.ok());
  auto any = (*t)->Listen("127.0.0.1:0");
  ASSERT_TRUE(any.ok()) << any.error();
  EXPECT_EQ((*any)->Addr().rfind("_INBOX.", 0), 0u) << (*any)->Addr();
  auto named = (*t)->Listen("greeter.node-1");
  ASSERT_TRUE(named.ok()) << named.error();
  EXPECT_EQ((*named)->Addr(), "greeter.node-1");
  EXPECT_FALSE((*t)->Listen("greeter.node-1").ok());  // in use
  (*named)->Close();
  EXPECT_TRUE((*t)->Listen("greeter.node-1").ok());  // free again
  for (const char* bad : {"with space", "wild.*", "tail.>", "a..b", "."}) {
    auto l = (*t)->Listen(bad);
    ASSERT_FALSE(l.ok()) << bad;
    EXPECT_EQ(l.error().code, 400) << bad;
  }
}

TEST_F(NatsTransportTest, NoListenerIsNoRespondersNotAHang) {
  auto t = nats::NewTransport(TransportWithServer({}));
  ASSERT_TRUE(t.ok());
  auto s = (*t)->DialSync("nobody.listens.here");
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_TRUE((*s)->SendSync({{{"Micro-Id", "1"}}, "x"}).ok());
  Message in;
  const auto start = std::chrono::steady_clock::now();
  Status st = (*s)->RecvSync(in);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 503) << st.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(NatsTransportTest, UnreachableServerIsA503) {
  TransportOptions o;
  o.addrs = {"127.0.0.1:" + std::to_string(testing::FreePort())};
  o.dial_timeout = 300ms;
  auto t = nats::NewTransport(o);
  ASSERT_TRUE(t.ok());  // connects lazily
  auto l = (*t)->Listen(":0");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().code, 503) << l.error();
  auto s = (*t)->DialSync("x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 503) << s.error();
}

}  // namespace

namespace testing {
INSTANTIATE_TEST_SUITE_P(Nats, TransportContractTest,
                         ::testing::Values(TransportContractParam{
                             .name = "nats",
                             .make =
                                 [](TransportOptions o) {
                                   return nats::NewTransport(TransportWithServer(std::move(o)));
                                 },
                             .listen_addr = ":0",
                             // nats-server's default max_payload is 1 MiB; base64 makes 3 bytes 4.
                             .max_body = 600 * 1024,
                             .concurrent_connections = 500,
                             .dial_checks_listener = false,
                             .skip_reason = nats_test::SkipReason}),
                         TransportContractName);
}  // namespace testing
}  // namespace micro
