// Connection storms against a real faults-server process (issue 16): 10,000 connect/close
// cycles, then 1,000 idle connections held open at once; the server keeps answering calls
// throughout, and its resident memory comes back to within 10 % of what it was idle.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cluster.h"

namespace faults {
namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kStormSanitized = true;
#else
constexpr bool kStormSanitized = false;
#endif

// VmRSS of pid in kB (0 if unknown).
long RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// A TCP connection to 127.0.0.1:port, or -1.
int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class StormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kStormSanitized) GTEST_SKIP() << "RSS figures are meaningless under sanitizers";
    // 1,000 idle connections plus the server's own: make sure this process may hold them.
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_cur < 4096 && lim.rlim_max > lim.rlim_cur) {
      lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    }
    if (lim.rlim_cur < 2048) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below 2048";
    // The child inherits the raised limit (it serves the 1,000 connections).
    node_ = StartNode({.registry = "memory"});
    ASSERT_FALSE(node_.address.empty()) << node_.proc->Log();
    port_ = static_cast<uint16_t>(std::stoi(node_.address.substr(node_.address.rfind(':') + 1)));
    client_ = std::make_unique<micro::Service>(micro::ServiceOptions{
        .name = "faults.storm.client", .registry = "memory", .handle_signals = false});
  }

  // n calls straight to the node; how many succeeded.
  int Calls(int n) {
    micro::CallOptions opts{.address = {node_.address}, .retries = 0, .request_timeout = 5s};
    greeter::Request req;
    req.set_name("storm");
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      micro::Context ctx;
      ok += micro::Call<greeter::Response>(*client_->Client(), ctx, "faults.echo", "Greeter.Hello",
                                           req, opts)
                .ok();
    }
    return ok;
  }

  NodeProcess node_;
  uint16_t port_ = 0;
  std::unique_ptr<micro::Service> client_;
};

TEST_F(StormTest, ConnectCloseCyclesAndIdleConnections) {
  ASSERT_EQ(Calls(200), 200);
  std::this_thread::sleep_for(300ms);
  const long idle_kb = RssKb(node_.proc->pid());
  ASSERT_GT(idle_kb, 0);

  // 10,000 connect/close cycles; calls still answered every 1,000.
  int refused = 0;
  for (int i = 0; i < 10000; ++i) {
    int fd = Connect(port_);
    if (fd < 0) {
      ++refused;
      continue;
    }
    ::close(fd);
    if (i % 1000 == 999) {
      EXPECT_EQ(Calls(5), 5) << "after " << i + 1 << " cycles";
    }
  }
  EXPECT_EQ(refused, 0);

  // Two rounds of 1,000 idle connections at once; calls are answered while they are open.
  long held_kb = 0;
  long after_kb[2] = {0, 0};
  for (int round = 0; round < 2; ++round) {
    std::vector<int> held;
    for (int i = 0; i < 1000; ++i) {
      int fd = Connect(port_);
      if (fd < 0) break;
      held.push_back(fd);
    }
    EXPECT_EQ(held.size(), 1000u);
    std::this_thread::sleep_for(200ms);
    held_kb = RssKb(node_.proc->pid());
    EXPECT_EQ(Calls(100), 100);
    for (int fd : held) ::close(fd);
    EXPECT_EQ(Calls(100), 100);
    // The server sees the closes and trims: wait for it (up to 3 s on a loaded machine).
    for (int wait = 0; wait < 30; ++wait) {
      std::this_thread::sleep_for(100ms);
      after_kb[round] = RssKb(node_.proc->pid());
      if (after_kb[round] <= idle_kb * 11 / 10) break;
    }
  }
  std::printf("[ figures  ] storm.rss_kb idle=%ld with_1000_idle=%ld after_1=%ld after_2=%ld\n",
              idle_kb, held_kb, after_kb[0], after_kb[1]);
  RecordProperty("storm.rss_idle_kb", std::to_string(idle_kb));
  RecordProperty("storm.rss_1000_conns_kb", std::to_string(held_kb));
  RecordProperty("storm.rss_after_first_kb", std::to_string(after_kb[0]));
  RecordProperty("storm.rss_after_second_kb", std::to_string(after_kb[1]));
  // Memory goes back once the connections are gone, to within 10 % of idle (issue 16), after
  // each surge: the server trims all the way down a surge, asio's pooled per-socket states
  // are packed on the accept thread, and each loop's heap top is trimmed too
  // (docs/reliability.md, connection storms).
  EXPECT_LE(after_kb[0], idle_kb * 11 / 10);
  EXPECT_LE(after_kb[1], idle_kb * 11 / 10);
}

}  // namespace
}  // namespace faults
