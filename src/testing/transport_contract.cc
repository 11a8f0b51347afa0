// The shared transport contract tests (see transport_contract.h).
#include <micro/testing/transport_contract.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace micro::testing {

using namespace std::chrono_literals;

asio::awaitable<void> ContractEchoHandler(std::shared_ptr<Socket> s) {
  Message m;
  while ((co_await s->Recv(m)).ok()) {
    if (!(co_await s->Send(m)).ok()) break;
  }
}

void TransportContractTest::SetUp() {
  if (GetParam().skip_reason) {
    if (std::string why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
  }
}

void TransportContractTest::TearDown() {
  if (listener_) listener_->Close();
}

std::shared_ptr<Transport> TransportContractTest::Make(TransportOptions o) {
  auto t = GetParam().make(std::move(o));
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? *t : nullptr;
}

void TransportContractTest::Serve(TransportOptions o, SocketHandler handler) {
  transport_ = Make(std::move(o));
  ASSERT_TRUE(transport_);
  auto l = transport_->Listen(GetParam().listen_addr);
  ASSERT_TRUE(l.ok()) << l.error();
  listener_ = *l;
  EXPECT_FALSE(listener_->Addr().empty());
  listener_->Start(std::move(handler));
}

TEST_P(TransportContractTest, PipelinedMessagesFlowBothWaysInOrder) {
  Serve({}, ContractEchoHandler);
  auto s = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(s.ok()) << s.error();
  for (int i = 0; i < 100; ++i) {
    Message m{{{"Micro-Id", std::to_string(i)}, {"X-Custom", "v"}}, "body " + std::to_string(i)};
    ASSERT_TRUE((*s)->SendSync(m).ok());
  }
  for (int i = 0; i < 100; ++i) {
    Message in;
    ASSERT_TRUE((*s)->RecvSync(in).ok());
    EXPECT_EQ(in.header.GetOr("Micro-Id"), std::to_string(i));
    EXPECT_EQ(in.header.GetOr("X-Custom"), "v");
    EXPECT_EQ(in.body, "body " + std::to_string(i));
  }
  EXPECT_EQ((*s)->Remote(), listener_->Addr());
}

TEST_P(TransportContractTest, EveryByteValueSurvives) {
  Serve({}, ContractEchoHandler);
  auto s = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(s.ok()) << s.error();
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  Message in;
  for (const std::string& body : {std::string(), all, std::string("\0\0", 2)}) {
    ASSERT_TRUE((*s)->SendSync({{{"Micro-Id", "1"}}, body}).ok());
    ASSERT_TRUE((*s)->RecvSync(in).ok());
    EXPECT_EQ(in.body, body);
  }
}

TEST_P(TransportContractTest, PeerCloseIsEof) {
  Serve({}, [](std::shared_ptr<Socket> s) -> asio::awaitable<void> {
    Message m;
    (void)co_await s->Recv(m);
    (void)co_await s->Send(m);
  });  // answers once, then the handler ends and the socket closes
  auto s = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->SendSync({{{"Micro-Id", "1"}}, "x"}).ok());
  Message in;
  ASSERT_TRUE((*s)->RecvSync(in).ok());
  EXPECT_EQ(in.body, "x");
  Status st = (*s)->RecvSync(in);
  EXPECT_TRUE(IsEof(st)) << st.error();
}

TEST_P(TransportContractTest, RecvTimeoutIsHonoured) {
  TransportOptions o;
  o.timeout = 200ms;
  Serve(o, [](std::shared_ptr<Socket> peer) -> asio::awaitable<void> {
    Message m;
    (void)co_await peer->Recv(m);  // answers nothing
    (void)co_await peer->Recv(m);
  });
  auto s = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->SendSync({{{"Micro-Id", "1"}}, "x"}).ok());
  const auto start = std::chrono::steady_clock::now();
  Message in;
  Status st = (*s)->RecvSync(in);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().code == 408 || IsEof(st)) << st.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_P(TransportContractTest, CloseIsIdempotentAndEndsTheSocket) {
  Serve({}, ContractEchoHandler);
  auto s = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(s.ok());
  (*s)->Close();
  (*s)->Close();
  Message in;
  EXPECT_FALSE((*s)->SendSync({{}, "x"}).ok());
  EXPECT_FALSE((*s)->RecvSync(in).ok());
}

TEST_P(TransportContractTest, ClosedListenerTakesNoNewConnections) {
  TransportOptions o;
  o.timeout = 500ms;
  Serve(o, ContractEchoHandler);
  const std::string addr = listener_->Addr();
  listener_->Close();
  listener_.reset();
  auto s = transport_->DialSync(addr);
  if (!s.ok()) {
    EXPECT_TRUE(GetParam().dial_checks_listener || !s.ok());
    return;  // http, memory: the dial fails
  }
  EXPECT_FALSE(GetParam().dial_checks_listener) << "dial to a closed listener succeeded";
  Message in;
  Status st = (*s)->SendSync({{{"Micro-Id", "1"}}, "x"});
  if (st.ok()) st = (*s)->RecvSync(in);
  EXPECT_FALSE(st.ok());
}

TEST_P(TransportContractTest, AcceptCompletesAfterClose) {
  transport_ = Make();
  ASSERT_TRUE(transport_);
  auto l = transport_->Listen(GetParam().listen_addr);
  ASSERT_TRUE(l.ok()) << l.error();
  std::thread closer([l = *l] {
    std::this_thread::sleep_for(100ms);
    l->Close();
  });
  Status st = (*l)->AcceptSync(ContractEchoHandler);
  EXPECT_TRUE(st.ok()) << st.error();
  closer.join();
}

TEST_P(TransportContractTest, LargeBodiesBothWays) {
  Serve({}, ContractEchoHandler);
  auto sock = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(sock.ok());
  std::string big(GetParam().max_body, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  Message in;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE((*sock)->SendSync({{{"Micro-Id", std::to_string(i)}}, big}).ok());
    ASSERT_TRUE((*sock)->RecvSync(in).ok());
    EXPECT_TRUE(in.body == big);
    EXPECT_EQ(in.header.GetOr("Micro-Id"), std::to_string(i));
  }
}

TEST_P(TransportContractTest, ManyConcurrentConnections) {
  Serve({}, ContractEchoHandler);
  const int conns = GetParam().concurrent_connections;
  asio::io_context io;
  std::atomic<int> ok{0};
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < conns; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          DialOptions dial;  // named: no aggregate temporary inside co_await (g++ 12)
          auto s = co_await transport_->Dial(listener_->Addr(), dial);
          if (!s.ok()) co_return;
          Message m{{{"Micro-Id", std::to_string(i)}}, "payload " + std::to_string(i)};
          if (!(co_await (*s)->Send(m)).ok()) co_return;
          Message in;
          if ((co_await (*s)->Recv(in)).ok() && in.body == m.body) ++ok;
          (*s)->Close();
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ok.load(), conns);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

// A user-supplied executor run by several threads: per-connection strands keep it safe.
TEST_P(TransportContractTest, SharedMultiThreadedExecutor) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&io] { io.run(); });
  TransportOptions o;
  o.executor = io.get_executor();
  Serve(o, ContractEchoHandler);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      auto sock = transport_->DialSync(listener_->Addr());
      if (!sock.ok()) return;
      for (int i = 0; i < 200; ++i) {
        Message out{{{"Micro-Id", std::to_string(i)}}, std::to_string(c * 1000 + i)};
        Message in;
        if ((*sock)->SendSync(out).ok() && (*sock)->RecvSync(in).ok() && in.body == out.body) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8 * 200);
  listener_->Close();
  listener_.reset();
  transport_.reset();
  guard.reset();
  io.stop();
  for (auto& t : threads) t.join();
}

// Not a benchmark (bench/ is): many small calls on one connection are quick; prints the rate.
TEST_P(TransportContractTest, ManySmallCallsOnOneConnection) {
  Serve({}, ContractEchoHandler);
  asio::io_context io;
  constexpr int kCalls = 5000;
  int ok = 0;
  const auto start = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        DialOptions dial;
        auto s = co_await transport_->Dial(listener_->Addr(), dial);
        if (!s.ok()) co_return;
        Message out{{{"Content-Type", "application/json"},
                     {"Micro-Id", "0"},
                     {"Micro-Service", "greeter"},
                     {"Micro-Method", "Greeter.Hello"}},
                    "{\"name\":\"John\"}\n"};
        Message in;
        for (int i = 0; i < kCalls; ++i) {
          if (!(co_await (*s)->Send(out)).ok()) break;
          if (!(co_await (*s)->Recv(in)).ok()) break;
          if (in.body == out.body) ++ok;
        }
      },
      asio::detached);
  io.run();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ok, kCalls);
  std::printf("[   INFO   ] %s: %d sequential round trips in %.3f s: %.0f/s\n",
              GetParam().name.c_str(), kCalls, secs, kCalls / secs);
}

TEST_P(TransportContractTest, SyncCallOnIoThreadIsAnErrorNotADeadlock) {
  Serve({}, [](std::shared_ptr<Socket> s) -> asio::awaitable<void> {
    Message m;
    Status st = s->RecvSync(m);  // on the socket's own thread
    (void)co_await s->Recv(m);
    m.header.Set("Sync-Error", st.ok() ? "none" : st.error().detail);
    (void)co_await s->Send(m);
  });
  auto sock = transport_->DialSync(listener_->Addr());
  ASSERT_TRUE(sock.ok());
  ASSERT_TRUE((*sock)->SendSync({{{"Micro-Id", "1"}}, "x"}).ok());
  Message in;
  ASSERT_TRUE((*sock)->RecvSync(in).ok());
  EXPECT_NE(in.header.GetOr("Sync-Error").find("deadlock"), std::string::npos);
}

// A test binary may instantiate only some of the suites of micro::contract_tests.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TransportContractTest);

}  // namespace micro::testing

// Pulls this file's tests out of the static library into every test binary that links it
// (the library's link interface names the symbol: see src/testing/CMakeLists.txt).
extern "C" {
extern const int micro_contract_anchor_transport;
const int micro_contract_anchor_transport = 1;
}
