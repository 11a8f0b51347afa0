// A 3-member etcd cluster as users deploy it (issue 16): three faults-server nodes and a client,
// every one given all three members in --registry_address, under open-loop load; the etcd
// leader is killed (-9) mid-run. The leader is listed first everywhere, so every registry
// client is talking to it when it dies and must fail over to the others.
//
// Asserted: no call fails; the nodes stay registered (their leases are kept alive through the
// election); a node started after the kill registers and gets calls (the client's watch moved
// to a live member); a lookup by a fresh registry, dead member first, succeeds. Printed: the
// election time and what the registry showed meanwhile. Bounded: 1,000 calls/s for 6 s.
#include "etcd_cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>

#include "cluster.h"
#include "load.h"
#include "micro/etcd/etcd.h"

namespace faults {
namespace {

using namespace std::chrono_literals;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kClusterRate = 200;  // the sanitizers' cost is not what this measures
#else
constexpr double kClusterRate = 1000;
#endif

const std::string kClusterService = "faults.echo";

std::chrono::milliseconds Since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

TEST(EtcdClusterFaults, LeaderKilledUnderLoad) {
  if (!micro::testing::EtcdInstalled()) GTEST_SKIP() << "etcd is not installed";
  EtcdCluster etcd(3);
  ASSERT_TRUE(etcd.Start()) << etcd.Log();
  const int leader = etcd.Leader();
  ASSERT_GE(leader, 0) << etcd.Log();
  const std::string members = etcd.Endpoints(leader);  // the leader first

  NodeFlags flags{.registry_address = members, .register_ttl = 3, .register_interval = 1};
  std::vector<NodeProcess> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(StartNode(flags, kClusterService));
    ASSERT_FALSE(nodes.back().address.empty()) << nodes.back().proc->Log();
  }
  auto client = ClientService(members);
  auto registry = client->Registry();
  ASSERT_LT(WaitFor([&] { return NodeAddresses(*registry, kClusterService).size() == 3; }, 10s),
            10s)
      << "nodes not registered";
  micro::CallOptions warm{.retries = 1};
  for (int i = 0; i < 30; ++i) {
    micro::Context ctx;
    greeter::Request req;
    req.set_name("warm");
    auto r = micro::Call<greeter::Response>(*client->Client(), ctx, kClusterService,
                                            "Greeter.Hello", req, warm);
    ASSERT_TRUE(r.ok()) << r.error();
  }

  LoadOptions options{.rate = kClusterRate, .seconds = 6};
  options.call.request_timeout = 5s;
  OpenLoad load(client->Client(), kClusterService, options);
  load.Start();
  // What a registry lookup shows during the run: the fewest nodes, and failed lookups.
  std::atomic<bool> watching{true};
  std::atomic<int> fewest{3}, lookup_failures{0};
  std::thread watcher([&] {
    auto reg = micro::etcd::NewRegistry({.addrs = {members}});
    while (reg && watching) {
      auto found = (*reg)->GetService(kClusterService);
      if (found) {
        int n = 0;
        for (const auto& s : *found) n += static_cast<int>(s.nodes.size());
        fewest = std::min(fewest.load(), n);
      } else {
        ++lookup_failures;
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  auto stop_watcher = [&] {
    watching = false;
    if (watcher.joinable()) watcher.join();
  };
  struct Finally {
    std::function<void()> f;
    ~Finally() { f(); }
  } finally{stop_watcher};

  std::this_thread::sleep_until(load.started() + 2s);
  etcd.Kill(leader);
  const auto killed = Clock::now();
  std::chrono::milliseconds elected{};
  std::thread election([&] { elected = WaitFor([&] { return etcd.Leader() >= 0; }, 15s, 10ms); });

  // A registration right after the kill: a fresh node, whose registry client too starts on the
  // dead leader (it serves, and prints its address, once registered).
  nodes.push_back(StartNode(flags, kClusterService));
  election.join();
  const std::string fresh = nodes.back().address;
  ASSERT_FALSE(fresh.empty()) << nodes.back().proc->Log();
  const auto serving = Since(killed);
  const auto registered = WaitFor([&] { return Listed(*registry, kClusterService, fresh); }, 15s);
  const auto fresh_after = Since(killed);
  load.Wait();
  stop_watcher();

  // A lookup after the kill by a registry that was never connected, the dead member first.
  auto later = micro::etcd::NewRegistry({.addrs = {members}});
  ASSERT_TRUE(later.ok()) << later.error();
  const auto listed = NodeAddresses(**later, kClusterService);

  auto report = [&](const std::string& key, const std::string& value) {
    ::testing::Test::RecordProperty(key, value);
    std::printf("[ figures  ] %s = %s\n", key.c_str(), value.c_str());
  };
  report("etcd_cluster.sent", std::to_string(load.sent()));
  report("etcd_cluster.failed", std::to_string(load.failed()));
  report("etcd_cluster.new_leader_after_ms", std::to_string(elected.count()));
  report("etcd_cluster.fewest_nodes_listed", std::to_string(fewest.load()));
  report("etcd_cluster.failed_lookups", std::to_string(lookup_failures.load()));
  report("etcd_cluster.new_node_serving_after_kill_ms", std::to_string(serving.count()));
  report("etcd_cluster.new_node_listed_after_kill_ms", std::to_string(fresh_after.count()));
  report("etcd_cluster.nodes_listed_at_end", std::to_string(listed.size()));

  EXPECT_EQ(load.failed(), 0) << load.Summary();
  ASSERT_LT(elected, 15s) << "no new leader: " << etcd.Log();
  EXPECT_LT(registered, 15s) << "the node started after the kill never registered";
  EXPECT_EQ(lookup_failures.load(), 0);
  EXPECT_EQ(fewest.load(), 3) << "a node's registration lapsed during the election";
  EXPECT_EQ(listed.size(), 4u);

  // The client's watch moved on to a live member: the new node gets calls.
  LoadOptions more{.rate = kClusterRate, .seconds = 1.5};
  OpenLoad second(client->Client(), kClusterService, more);
  second.Start();
  second.Wait();
  EXPECT_EQ(second.failed(), 0) << second.Summary();
  EXPECT_GT(second.OkByAddress()[fresh], 0) << "the new node got no call: " << second.Summary();
}

}  // namespace
}  // namespace faults
