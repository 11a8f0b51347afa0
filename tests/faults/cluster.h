// Real processes for the fault tests: faults-server nodes registered in a real etcd (started
// on free loopback ports by the test), and an in-process client Service on the same registry.
// Each node is a child process stopped by its PID (SIGKILL, SIGTERM), never by name.
#pragma once

#include <gtest/gtest.h>
#include <micro/micro.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etcd_server.h"
#include "support/server_process.h"

#ifndef FAULTS_SERVER
#error "FAULTS_SERVER (the faults-server binary) must be defined"
#endif

namespace faults {

struct NodeProcess {
  std::unique_ptr<micro::testing::ServerProcess> proc;
  std::string address;  // host:port it listens on
};

struct NodeFlags {
  std::string registry = "etcd";
  std::string registry_address;
  int register_ttl = 3;  // seconds
  int register_interval = 1;
};

// Starts a faults-server and waits (up to 30 s) for its "listening on" line.
inline NodeProcess StartNode(const NodeFlags& flags, const std::string& name = "faults.echo") {
  NodeProcess n;
  std::vector<std::string> argv{FAULTS_SERVER,
                                "--registry",
                                flags.registry,
                                "--server_name",
                                name,
                                "--server_address",
                                "127.0.0.1:0",
                                "--register_ttl",
                                std::to_string(flags.register_ttl),
                                "--register_interval",
                                std::to_string(flags.register_interval)};
  if (!flags.registry_address.empty()) {
    argv.push_back("--registry_address");
    argv.push_back(flags.registry_address);
  }
  n.proc = std::make_unique<micro::testing::ServerProcess>("faults-server", argv);
  if (!n.proc->Start()) return n;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until && n.proc->Running()) {
    const std::string log = n.proc->Log();
    if (auto at = log.find("listening on "); at != std::string::npos) {
      auto end = log.find('\n', at);
      if (end != std::string::npos) {
        n.address = log.substr(at + 13, end - at - 13);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return n;
}

// The addresses of `service`'s nodes in reg (empty on any error).
inline std::vector<std::string> NodeAddresses(micro::Registry& reg, const std::string& service) {
  std::vector<std::string> out;
  auto found = reg.GetService(service);
  if (!found) return out;
  for (const auto& svc : *found) {
    for (const auto& node : svc.nodes) out.push_back(node.address);
  }
  return out;
}

inline bool Listed(micro::Registry& reg, const std::string& service, const std::string& address) {
  for (const auto& a : NodeAddresses(reg, service)) {
    if (a == address) return true;
  }
  return false;
}

// Polls until pred() holds or timeout passes; returns how long it took (or timeout+1 ms).
template <class Pred>
std::chrono::milliseconds WaitFor(Pred pred, std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (pred()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(step);
  }
  return timeout + std::chrono::milliseconds(1);
}

// A client Service on etcd (no server started; no signal handling, no observability).
inline std::unique_ptr<micro::Service> ClientService(const std::string& etcd_endpoint) {
  micro::ServiceOptions o{.name = "faults.client",
                          .registry = "etcd",
                          .registry_address = {etcd_endpoint},
                          .debug_handler = false,
                          .metrics = false,
                          .tracing = false,
                          .handle_signals = false};
  o.threads = 2;
  return std::make_unique<micro::Service>(std::move(o));
}

}  // namespace faults
