// Helpers for the http::Server and WebSocket tests: a server on its own io thread, a blocking
// raw TCP client whose every wait is bounded, and running external programs (curl, python3).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "http/server.h"
#include "micro/context.h"

namespace micro::http::server_testing {

// A Server on a private io_context run by one thread. Close()s and joins on destruction.
class TestServer {
 public:
  TestServer(ServerOptions options, ServerHandler handler)
      : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {
    auto s = Server::Start(io_.get_executor(), std::move(options), std::move(handler));
    if (s.ok())
      server_ = *s;
    else
      error_ = s.error().ToJson();
  }
  ~TestServer() {
    if (server_) server_->Close();
    work_.reset();
    // Connections end after Close; the bounded run returns even if one would not.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    io_.stop();
    thread_.join();
  }
  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }
  Server& operator*() { return *server_; }
  Server* operator->() { return server_.get(); }
  uint16_t port() const {
    const std::string addr = server_->Addr();
    return static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  }
  std::string url(std::string_view path = "/") const {
    return "http://" + server_->Addr() + std::string(path);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<Server> server_;
  std::string error_;
};

// A blocking TCP client on 127.0.0.1 whose reads all have deadlines.
class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Reads what arrives within timeout: nullopt on timeout with nothing read, "" at EOF.
  std::optional<std::string> ReadSome(Duration timeout = std::chrono::seconds(5)) {
    pollfd p{fd_, POLLIN, 0};
    const int ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    if (::poll(&p, 1, ms) <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return std::string();
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Appends to buffer() until it holds n bytes, EOF or the deadline. True when it holds n.
  bool ReadAtLeast(std::size_t n, Duration timeout = std::chrono::seconds(5)) {
    return ReadWhile([&] { return buf_.size() < n; }, timeout);
  }
  // Reads until the buffer contains needle (true) or EOF/deadline (false).
  bool ReadUntil(std::string_view needle, Duration timeout = std::chrono::seconds(5)) {
    return ReadWhile([&] { return buf_.find(needle) == std::string::npos; }, timeout);
  }
  // Reads while more() holds: true once it does not, false at EOF or the deadline.
  template <class More>
  bool ReadWhile(More more, Duration timeout) {
    const auto until = Clock::now() + timeout;
    while (more()) {
      const auto left = until - Clock::now();
      if (left <= Duration::zero()) return false;
      auto chunk = ReadSome(left);
      if (!chunk || chunk->empty()) {
        eof_ = chunk.has_value();
        return false;
      }
      buf_ += *chunk;
    }
    return true;
  }
  // Reads until the peer closes (true) or the deadline passes (false).
  bool ReadToEof(Duration timeout = std::chrono::seconds(5)) {
    const auto until = Clock::now() + timeout;
    while (!eof_) {
      const auto left = until - Clock::now();
      if (left <= Duration::zero()) return false;
      auto chunk = ReadSome(left);
      if (!chunk) return false;
      if (chunk->empty()) eof_ = true;
      buf_ += *chunk;
    }
    return true;
  }
  std::string& buffer() { return buf_; }
  bool eof() const { return eof_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string buf_;
  bool eof_ = false;
};

// Runs a shell command, returns its exit code (-1 if it did not exit normally) and stdout.
inline int RunCommand(const std::string& command, std::string* out = nullptr) {
  FILE* f = ::popen(command.c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    if (out) out->append(buf, n);
  }
  const int status = ::pclose(f);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Polls cond every 10 ms until it holds or timeout passes.
template <class Cond>
bool Eventually(Cond cond, Duration timeout = std::chrono::seconds(5)) {
  const auto until = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace micro::http::server_testing
