// One nats-server for the whole test binary, on a free loopback port (started on first use,
// stopped by PID at exit). Tests that need NATS call Nats() and skip when it cannot run.
#pragma once

#include <cstdint>
#include <string>

#include "support/server_process.h"

namespace micro::nats_test {

class NatsServer {
 public:
  // Empty when the server runs; else why the NATS tests are skipped.
  const std::string& skip_reason() const { return skip_reason_; }
  uint16_t port() const { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Restart tests: stop (SIGTERM, by PID) and start again on the same port.
  void Stop();
  bool Start();
  testing::ServerProcess& process() { return *process_; }

  static NatsServer& Get();

 private:
  NatsServer();
  uint16_t port_ = 0;
  std::string skip_reason_;
  testing::ServerProcess* process_ = nullptr;
};

inline NatsServer& Nats() { return NatsServer::Get(); }

// For Param::skip_reason and GTEST_SKIP.
inline std::string SkipReason() { return Nats().skip_reason(); }

}  // namespace micro::nats_test
