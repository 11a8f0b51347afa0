// ServerProcess: starts a real server binary (etcd, nats-server) for a test on free loopback
// ports and stops it by the PID it started (never by name). Header-only, for test binaries.
//
//   auto port = micro::testing::FreePort();
//   micro::testing::ServerProcess nats("nats-server",
//       {"nats-server", "-a", "127.0.0.1", "-p", std::to_string(port)});
//   ASSERT_TRUE(nats.Start()) << nats.Log();
//   ASSERT_TRUE(nats.WaitForPort(port, std::chrono::seconds(10))) << nats.Log();
//   ... nats.Stop(); nats.Start();   // restart tests
//
// The child's stdout and stderr go to a log file (Log() returns its tail, for failure
// messages). The destructor stops the child. Threading: one thread at a time.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace micro::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it).
inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  if (fd >= 0) ::close(fd);
  return port;
}

// True once something accepts TCP connections on 127.0.0.1:port.
inline bool PortOpen(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

class ServerProcess {
 public:
  ServerProcess(std::string name, std::vector<std::string> argv)
      : name_(std::move(name)), argv_(std::move(argv)) {
    char tmpl[] = "/tmp/micro-test-server-XXXXXX";
    if (char* dir = ::mkdtemp(tmpl)) dir_ = dir;
    log_path_ = dir_ + "/" + name_ + ".log";
  }
  ~ServerProcess() {
    Stop();
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // A scratch directory that lives as long as this object (e.g. for etcd's --data-dir).
  const std::string& dir() const { return dir_; }

  // Forks and execs argv; false if the fork failed or the child exited at once.
  bool Start() {
    if (pid_ > 0) return true;
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::setpgid(0, 0);  // not in the test's process group: a ^C to ctest is not doubled
      std::vector<char*> args;
      for (auto& a : argv_) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    pid_ = pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Running();
  }

  // Waits until 127.0.0.1:port accepts connections (or the child died, or timeout).
  bool WaitForPort(uint16_t port, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (!Running()) return false;
      if (PortOpen(port)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      status_ = status;
      return false;
    }
    return true;
  }

  // Sends sig to the child (not reaped: see WaitExit).
  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // Waits up to timeout for the child to exit and reaps it; false if it still runs.
  bool WaitExit(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (Running()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // The wait status of the last child reaped (WIFEXITED/WEXITSTATUS), -1 before that.
  int wait_status() const { return status_; }

  // SIGTERM, then SIGKILL after grace; reaps the child. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto until = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = status;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = status;
  }

  // SIGKILL at once (a crash, for failure tests).
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }

  // The last ~4 KiB of the child's output.
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 4096 ? s.substr(s.size() - 4096) : s;
  }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  std::string dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = -1;
};

}  // namespace micro::testing
