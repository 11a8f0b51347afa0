// A tiny scripted HTTP/1.1 server on 127.0.0.1 for the client tests: one thread per
// connection, blocking sockets, requests framed by hand (Content-Length bodies only). The
// handler writes whatever bytes it wants (status lines, chunks, nothing at all).
#pragma once

#include <sys/socket.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace micro::testing {

struct SeenRequest {
  std::string line;  // "GET /x HTTP/1.1"
  std::string head;  // the whole header block
  std::string body;
  int connection = 0;  // 1-based index of the connection it came on
};

class ServerConn {
 public:
  explicit ServerConn(asio::ip::tcp::socket s) : socket_(std::move(s)) {}
  bool Write(std::string_view bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  // Closes the connection after the handler returns.
  void CloseAfter() { close_ = true; }
  bool close_requested() const { return close_; }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
  bool close_ = false;
};

class LoopbackServer {
 public:
  using Handler = std::function<void(const SeenRequest&, ServerConn&)>;

  explicit LoopbackServer(Handler h) : handler_(std::move(h)), acceptor_(io_) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto* s : open_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  std::vector<SeenRequest> requests() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      std::error_code ec;
      asio::ip::tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      const int index = ++connections_;
      std::lock_guard lock(mu_);
      threads_.emplace_back(
          [this, index, s = std::move(s)]() mutable { Serve(std::move(s), index); });
    }
  }

  void Serve(asio::ip::tcp::socket s, int index) {
    ServerConn conn(std::move(s));
    {
      std::lock_guard lock(mu_);
      open_.push_back(&conn.socket());
    }
    std::string buf;
    char tmp[4096];
    for (;;) {
      auto end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        SeenRequest r;
        r.head = buf.substr(0, end + 4);
        r.line = buf.substr(0, buf.find("\r\n"));
        r.connection = index;
        std::size_t length = 0;
        auto cl = r.head.find("Content-Length: ");
        if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
        if (buf.size() >= end + 4 + length) {
          r.body = buf.substr(end + 4, length);
          buf.erase(0, end + 4 + length);
          {
            std::lock_guard lock(mu_);
            seen_.push_back(r);
          }
          handler_(r, conn);
          if (conn.close_requested()) break;
          continue;
        }
      }
      std::error_code ec;
      std::size_t n = conn.socket().read_some(asio::buffer(tmp), ec);
      if (ec) break;
      buf.append(tmp, n);
    }
    std::lock_guard lock(mu_);
    open_.remove(&conn.socket());
    std::error_code ignored;
    conn.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    conn.socket().close(ignored);
  }

  Handler handler_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::thread> threads_;
  std::list<asio::ip::tcp::socket*> open_;
  std::vector<SeenRequest> seen_;
};

// "HTTP/1.1 <status>" with a Content-Length body.
inline std::string Reply(int status, std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + std::string(extra) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace micro::testing
