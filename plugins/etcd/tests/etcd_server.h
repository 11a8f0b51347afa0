// A real etcd for the tests: one member on free 127.0.0.1 ports, data in a scratch directory
// (on /dev/shm when there is one: etcd fsyncs a lot), stopped by its PID. Restartable on the
// same data directory.
#pragma once

#include <micro/http_client.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "support/server_process.h"

namespace micro::testing {

inline bool EtcdInstalled() { return std::system("command -v etcd >/dev/null 2>&1") == 0; }

class EtcdServer {
 public:
  EtcdServer() {
    char tmpl[] = "/dev/shm/micro-etcd-XXXXXX";
    char tmpl2[] = "/tmp/micro-etcd-XXXXXX";
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? ::mkdtemp(tmpl) : ::mkdtemp(tmpl2);
    data_dir_ = dir ? std::string(dir) + "/data" : "/tmp/micro-etcd-data";
    scratch_ = dir ? dir : "";
    client_port_ = FreePort();
    peer_port_ = FreePort();
    while (peer_port_ == client_port_) peer_port_ = FreePort();
    const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    process_ = std::make_unique<ServerProcess>(
        "etcd", std::vector<std::string>{"etcd",       "--name",
                                         "n1",         "--data-dir",
                                         data_dir_,    "--listen-client-urls",
                                         client,       "--advertise-client-urls",
                                         client,       "--listen-peer-urls",
                                         peer,         "--initial-advertise-peer-urls",
                                         peer,         "--initial-cluster",
                                         "n1=" + peer, "--initial-cluster-state",
                                         "new",        "--logger",
                                         "zap",        "--log-level",
                                         "info"});
  }
  ~EtcdServer() {
    process_.reset();
    if (!scratch_.empty()) std::system(("rm -rf '" + scratch_ + "'").c_str());
  }

  // Starts etcd and waits until /health says true (leader elected). The wait is generous:
  // under sanitizers and a parallel ctest a restarted member has been seen to need >15 s.
  // On failure, Log() says why (port never opened, or the last /health answer).
  bool Start() {
    why_.clear();
    if (!process_->Start()) return Fail("etcd exited at once");
    if (!process_->WaitForPort(client_port_, std::chrono::seconds(30))) {
      return Fail(process_->Running() ? "client port never opened" : "etcd exited");
    }
    http::Client client;
    const auto until = Clock::now() + std::chrono::seconds(30);
    std::string last = "no answer";
    while (Clock::now() < until) {
      auto r = client.SendSync(endpoint(), {.target = "/health"},
                               Context::WithTimeout(std::chrono::seconds(2)));
      if (r && r->status == 200 && r->body.find("true") != std::string::npos) return true;
      last = r ? std::to_string(r->status) + " " + r->body : r.error().detail;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return Fail("not healthy in 30 s; last /health: " + last);
  }
  void Stop() { process_->Stop(); }
  // Deletes the data directory (call while stopped): the next Start is a fresh etcd, with no
  // keys and no leases, on the same ports (an etcd replaced, as in a registry outage).
  void WipeData() { std::system(("rm -rf '" + data_dir_ + "'").c_str()); }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  std::string Log() const { return why_ + "\n" + process_->Log(); }

 private:
  bool Fail(std::string why) {
    why_ = "etcd start failed: " + std::move(why);
    return false;
  }

  std::string why_;
  std::string scratch_;
  std::string data_dir_;
  uint16_t client_port_ = 0;
  uint16_t peer_port_ = 0;
  std::unique_ptr<ServerProcess> process_;
};

// The etcd shared by one test binary: started on first use, stopped at exit.
inline EtcdServer* SharedEtcd(std::string* why_not) {
  static std::string reason;
  static EtcdServer* server = []() -> EtcdServer* {
    if (!EtcdInstalled()) {
      reason = "etcd is not installed (apt-get install etcd-server)";
      return nullptr;
    }
    static EtcdServer s;
    if (!s.Start()) {
      reason = "etcd did not start: " + s.Log();
      return nullptr;
    }
    return &s;
  }();
  if (why_not) *why_not = reason;
  return server;
}

}  // namespace micro::testing
