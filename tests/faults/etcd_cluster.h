// A real 3-member etcd cluster for the fault tests: members on free 127.0.0.1 ports (client and
// peer each), one data directory each in a scratch directory (on /dev/shm when there is one:
// etcd fsyncs a lot) removed at the end, each member a child process killed by its PID.
//
//   faults::EtcdCluster etcd(3);
//   ASSERT_TRUE(etcd.Start()) << etcd.Log();
//   const int leader = etcd.Leader();          // from /v3/maintenance/status
//   etcd.Kill(leader);                          // kill -9
//
// Threading: one thread at a time.
#pragma once

#include <micro/http_client.h>
#include <unistd.h>

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

class EtcdCluster {
 public:
  explicit EtcdCluster(int members) {
    char tmpl[] = "/dev/shm/micro-etcd-cluster-XXXXXX";
    char tmpl2[] = "/tmp/micro-etcd-cluster-XXXXXX";
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? ::mkdtemp(tmpl) : ::mkdtemp(tmpl2);
    scratch_ = dir ? dir : "/tmp";
    std::string initial;
    for (int i = 0; i < members; ++i) {
      members_.push_back({.name = "m" + std::to_string(i),
                          .client_port = UniquePort(),
                          .peer_port = UniquePort()});
      if (i > 0) initial += ",";
      initial += members_.back().name + "=" + PeerUrl(members_.back());
    }
    for (auto& m : members_) {
      const std::string client = "http://" + Endpoint(m);
      m.process = std::make_unique<micro::testing::ServerProcess>(
          "etcd-" + m.name, std::vector<std::string>{"etcd",
                                                     "--name",
                                                     m.name,
                                                     "--data-dir",
                                                     scratch_ + "/" + m.name,
                                                     "--listen-client-urls",
                                                     client,
                                                     "--advertise-client-urls",
                                                     client,
                                                     "--listen-peer-urls",
                                                     PeerUrl(m),
                                                     "--initial-advertise-peer-urls",
                                                     PeerUrl(m),
                                                     "--initial-cluster",
                                                     initial,
                                                     "--initial-cluster-state",
                                                     "new",
                                                     "--initial-cluster-token",
                                                     "micro-faults-" + std::to_string(::getpid()),
                                                     "--logger",
                                                     "zap"});
    }
  }
  ~EtcdCluster() {
    for (auto& m : members_) m.process.reset();
    if (scratch_.rfind("/dev/shm/micro-etcd-cluster-", 0) == 0 ||
        scratch_.rfind("/tmp/micro-etcd-cluster-", 0) == 0) {
      std::system(("rm -rf '" + scratch_ + "'").c_str());
    }
  }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member (together: a member alone has no quorum) and waits until each says
  // healthy (a leader is elected) and its member id is known; on failure Log() says why.
  bool Start() {
    for (auto& m : members_) {
      if (!m.process->Start()) return Fail(m.name + " exited at once");
    }
    micro::http::Client client;
    for (auto& m : members_) {
      if (!m.process->WaitForPort(m.client_port, std::chrono::seconds(30))) {
        return Fail(m.name + ": client port never opened");
      }
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        auto r = client.SendSync(Endpoint(m), {.target = "/health"},
                                 micro::Context::WithTimeout(std::chrono::seconds(2)));
        if (r && r->status == 200 && r->body.find("true") != std::string::npos) break;
        if (std::chrono::steady_clock::now() > until) return Fail(m.name + ": never healthy");
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      const auto status = Status(m);
      if (!status.is_object() || !status.contains("header")) return Fail(m.name + ": no status");
      m.id = status["header"].value("member_id", "");
    }
    return true;
  }

  // The index of the member that is leader now, as the live members see it (-1: none, or
  // they disagree, e.g. during an election).
  int Leader() {
    int leader = -1;
    for (auto& m : members_) {
      if (!m.process->Running()) continue;
      const auto status = Status(m);
      if (!status.is_object() || !status.contains("leader")) return -1;
      const std::string id = status.value("leader", "");
      int index = -1;
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (members_[i].id == id) index = static_cast<int>(i);
      }
      // (Until they notice, the others still name a dead leader.)
      if (index < 0 || !members_[index].process->Running()) return -1;
      if (leader >= 0 && index != leader) return -1;
      leader = index;
    }
    return leader;
  }

  void Kill(int i) { members_[i].process->Kill(); }
  int size() const { return static_cast<int>(members_.size()); }

  // "127.0.0.1:port" of member i.
  std::string Endpoint(int i) const { return Endpoint(members_[i]); }
  // Every member's client endpoint, comma-separated, starting with member `first`.
  std::string Endpoints(int first = 0) const {
    std::string out;
    for (int k = 0; k < size(); ++k) {
      if (k > 0) out += ",";
      out += Endpoint((first + k) % size());
    }
    return out;
  }

  std::string Log() const {
    std::string out = why_;
    for (const auto& m : members_) out += "\n--- " + m.name + "\n" + m.process->Log();
    return out;
  }

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::string id;  // etcd's member id (decimal, as the JSON gateway writes it)
    std::unique_ptr<micro::testing::ServerProcess> process;
  };

  static std::string Endpoint(const Member& m) {
    return "127.0.0.1:" + std::to_string(m.client_port);
  }
  static std::string PeerUrl(const Member& m) {
    return "http://127.0.0.1:" + std::to_string(m.peer_port);
  }

  static nlohmann::json Status(const Member& m) {
    micro::http::Client client;
    micro::http::Request req{.method = "POST", .target = "/v3/maintenance/status", .body = "{}"};
    req.header.Set("Content-Type", "application/json");
    auto r = client.SendSync(Endpoint(m), std::move(req),
                             micro::Context::WithTimeout(std::chrono::seconds(1)));
    if (!r || r->status != 200) return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  bool Fail(std::string why) {
    why_ = "etcd cluster start failed: " + std::move(why);
    return false;
  }

  std::string scratch_;
  std::string why_;
  std::vector<Member> members_;
};

}  // namespace faults
