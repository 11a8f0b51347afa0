#include "nats_env.h"

#include <cstdlib>

namespace micro::nats_test {

NatsServer& NatsServer::Get() {
  static NatsServer* server = new NatsServer();  // lives until exit (stopped by atexit)
  return *server;
}

NatsServer::NatsServer() {
  if (std::system("command -v nats-server >/dev/null 2>&1") != 0) {
    skip_reason_ = "nats-server is not installed (apt install nats-server)";
    return;
  }
  port_ = testing::FreePort();
  process_ = new testing::ServerProcess(
      "nats-server", {"nats-server", "-a", "127.0.0.1", "-p", std::to_string(port_)});
  if (!Start()) {
    skip_reason_ = "nats-server did not start: " + process_->Log();
    return;
  }
  std::atexit([] { NatsServer::Get().Stop(); });
}

void NatsServer::Stop() {
  if (process_) process_->Stop();
}

bool NatsServer::Start() {
  if (!process_) return false;
  return process_->Start() && process_->WaitForPort(port_, std::chrono::seconds(10));
}

}  // namespace micro::nats_test
