// Helpers for the transport tests: a blocking raw TCP peer (to send exact bytes and read
// exact bytes back) and a go-micro-like greeter handler.
#pragma once

#include <poll.h>

#include <asio/awaitable.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "micro/plugin/address.h"
#include "micro/transport.h"
#include "transport/http_wire.h"

namespace micro::testing {

using namespace std::chrono_literals;

inline uint16_t PortOf(const std::string& addr) {
  auto hp = plugin::ParseHostPort(addr);
  return hp ? hp->min_port : 0;
}

// A blocking TCP peer on 127.0.0.1.
class RawPeer {
 public:
  explicit RawPeer(asio::ip::tcp::socket s) : socket_(std::move(s)) {}
  static std::unique_ptr<RawPeer> Connect(uint16_t port) {
    static asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return nullptr;
    s.set_option(asio::ip::tcp::no_delay(true));
    return std::make_unique<RawPeer>(std::move(s));
  }

  bool Write(std::string_view bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  // Writes in pieces of `step` bytes, pausing a little between them.
  bool WriteSlowly(std::string_view bytes, std::size_t step, std::chrono::microseconds pause) {
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      if (!Write(bytes.substr(i, step))) return false;
      std::this_thread::sleep_for(pause);
    }
    return true;
  }

  // Reads some bytes into buf_, waiting up to timeout. False on EOF, error or timeout.
  bool ReadMore(std::chrono::milliseconds timeout) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char tmp[16384];
    std::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(tmp), ec);
    if (ec || n == 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, n);
    return true;
  }

  // Reads one whole HTTP message (framed by llhttp through our parser) and returns its exact
  // bytes; "" on timeout/EOF. kind: kResponse for responses.
  std::string ReadMessage(http::HttpParser::Kind kind = http::HttpParser::Kind::kResponse,
                          std::chrono::milliseconds timeout = 5000ms, Message* out = nullptr) {
    http::HttpParser parser(kind, 1 << 20, 1 << 26);
    Message scratch;
    parser.Start(out ? out : &scratch);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t fed = 0;
    for (;;) {
      if (fed < buf_.size()) {
        std::size_t used = 0;
        const auto st = parser.Parse(buf_.data() + fed, buf_.size() - fed, &used);
        fed += used;
        if (st == http::ParseStatus::kComplete) {
          std::string msg = buf_.substr(0, fed);
          buf_.erase(0, fed);
          last_status_ = parser.status_code();
          return msg;
        }
        if (st == http::ParseStatus::kError) return {};
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !ReadMore(left)) {
        if (eof_ && parser.started() && parser.Finish() == http::ParseStatus::kComplete) {
          std::string msg = buf_;
          buf_.clear();
          last_status_ = parser.status_code();
          return msg;
        }
        return {};
      }
    }
  }

  // Reads until the peer closes; true when it did within timeout.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      if (!ReadMore(left) && !eof_) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
      }
    }
    return true;
  }

  int last_status() const { return last_status_; }
  const std::string& buffered() const { return buf_; }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
  std::string buf_;
  bool eof_ = false;
  int last_status_ = 0;
};

// Answers like go-micro's rpc server does for the greeter of the wire captures: response
// headers Content-Type and Micro-Endpoint/Method/Service (go-micro does not re-set Micro-Id
// over HTTP; the first request's echo carries it), body "Hello <name>", or Micro-Error and
// X-Micro-Error with an empty body for an unknown method.
inline asio::awaitable<void> GreeterHandler(std::shared_ptr<Socket> s) {
  Message req;
  Message rsp;
  while ((co_await s->Recv(req)).ok()) {
    rsp.header.clear();
    rsp.header.Set("Content-Type", std::string(req.header.GetOr("Content-Type")));
    for (const char* k : {"Micro-Endpoint", "Micro-Method", "Micro-Service"}) {
      if (auto v = GetHeader(req.header, k)) rsp.header.Set(k, std::string(*v));
    }
    const auto method = GetHeader(req.header, "Micro-Method").value_or("");
    if (method == "Greeter.Hello") {
      const bool json = req.header.GetOr("Content-Type") == "application/json";
      rsp.body = json ? "{\"msg\":\"Hello John\"}\n" : std::string("\n\nHello John");
    } else {
      rsp.body.clear();
      const std::string err = "rpc: can't find method " + std::string(method.substr(8));
      rsp.header.Set("Micro-Error", err);
      rsp.header.Set("X-Micro-Error", err);
    }
    if (!(co_await s->Send(rsp)).ok()) break;
  }
}

// Echoes every message back with its headers.
inline asio::awaitable<void> EchoHandler(std::shared_ptr<Socket> s) {
  Message m;
  while ((co_await s->Recv(m)).ok()) {
    if (!(co_await s->Send(m)).ok()) break;
  }
}

}  // namespace micro::testing
