// Real nats-servers for the fault tests: one node, or three forming a cluster over routes, on
// free 127.0.0.1 ports, each with its HTTP monitoring port (/connz, /routez) so a test can see
// what the server sees. Each is a child process stopped or killed by its PID, and restartable
// on the same ports.
//
//   faults::NatsNode n;                 // standalone
//   ASSERT_TRUE(n.Start()) << n.Log();
//   n.Kill(); n.Start();                // a crash and a restart on the same port
//
//   auto nodes = faults::NatsNode::Cluster(3);   // routes to each other, cluster "micro"
//
// (plugins/nats/tests/nats_env.h has one server per test binary, with neither monitoring nor
// cluster ports: these tests need both and several servers.)
// Threading: one thread at a time.
#pragma once

#include <micro/http_client.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "ports.h"
#include "support/server_process.h"

namespace faults {

inline bool NatsServerInstalled() {
  return std::system("command -v nats-server >/dev/null 2>&1") == 0;
}

class NatsNode {
 public:
  NatsNode() : port_(UniquePort()), monitor_port_(UniquePort()) {}

  // n nodes on loopback, each routed to the others (cluster name "micro"); not started.
  static std::vector<std::unique_ptr<NatsNode>> Cluster(int n) {
    std::vector<std::unique_ptr<NatsNode>> nodes;
    for (int i = 0; i < n; ++i) {
      nodes.push_back(std::make_unique<NatsNode>());
      nodes.back()->cluster_port_ = UniquePort();
    }
    for (int i = 0; i < n; ++i) {
      std::string routes;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;  // a route to itself is refused noisily ("Duplicate Route")
        if (!routes.empty()) routes += ",";
        routes += "nats://127.0.0.1:" + std::to_string(nodes[j]->cluster_port_);
      }
      nodes[i]->routes_ = routes;
    }
    return nodes;
  }

  // Starts (or restarts, on the same ports) and waits until clients can connect.
  bool Start() {
    if (!process_) {
      std::vector<std::string> argv{"nats-server",
                                    "-a",
                                    "127.0.0.1",
                                    "-p",
                                    std::to_string(port_),
                                    "-m",
                                    std::to_string(monitor_port_)};
      if (cluster_port_ != 0) {
        argv.insert(argv.end(), {"--cluster", "nats://127.0.0.1:" + std::to_string(cluster_port_),
                                 "--cluster_name", "micro", "--routes", routes_});
      }
      process_ = std::make_unique<micro::testing::ServerProcess>("nats-" + std::to_string(port_),
                                                                 std::move(argv));
    }
    return process_->Start() && process_->WaitForPort(port_, std::chrono::seconds(10)) &&
           process_->WaitForPort(monitor_port_, std::chrono::seconds(10));
  }
  void Kill() {
    if (process_) process_->Kill();
  }
  void Stop() {
    if (process_) process_->Stop();
  }
  bool Running() { return process_ && process_->Running(); }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return process_ ? process_->Log() : std::string(); }

  // A monitoring endpoint's JSON (null on any failure).
  nlohmann::json Monitor(const std::string& target) {
    micro::http::Client client;
    auto r = client.SendSync("127.0.0.1:" + std::to_string(monitor_port_), {.target = target},
                             micro::Context::WithTimeout(std::chrono::seconds(2)));
    if (!r || r->status != 200) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  // Client connections holding a subscription on `subject` (0 when unreachable).
  int Subscriptions(const std::string& subject) {
    const auto j = Monitor("/connz?subs=1");
    int n = 0;
    if (!j.is_object() || !j.contains("connections")) return 0;
    for (const auto& c : j["connections"]) {
      if (!c.contains("subscriptions_list")) continue;
      for (const auto& s : c["subscriptions_list"]) n += s == subject ? 1 : 0;
    }
    return n;
  }
  // Client connections (0 when unreachable).
  int Connections() {
    const auto j = Monitor("/connz");
    return j.is_object() ? j.value("num_connections", 0) : 0;
  }
  // Routes to other cluster nodes (0 when unreachable).
  int Routes() {
    const auto j = Monitor("/routez");
    return j.is_object() ? j.value("num_routes", 0) : 0;
  }

 private:
  uint16_t port_;
  uint16_t monitor_port_;
  uint16_t cluster_port_ = 0;
  std::string routes_;
  std::unique_ptr<micro::testing::ServerProcess> process_;
};

}  // namespace faults
