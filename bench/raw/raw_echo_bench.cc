// Load generator for raw-echo-server (same flags and output as micro-bench): one connection
// per call in flight; each call writes one length-prefixed frame and reads the echo back
// (asio callbacks, no coroutine frames).
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/load.h"

namespace {

using asio::ip::tcp;

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

std::string Frame(std::size_t payload) {
  std::string f(4 + payload, 'x');
  f[0] = static_cast<char>(payload >> 24);
  f[1] = static_cast<char>(payload >> 16);
  f[2] = static_cast<char>(payload >> 8);
  f[3] = static_cast<char>(payload);
  return f;
}

std::optional<tcp::endpoint> ParseEndpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::error_code ec;
  auto ip = asio::ip::make_address(colon == 0 ? "127.0.0.1" : address.substr(0, colon), ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(ip, static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
}

class RawTarget final : public bench::Target {
 public:
  RawTarget(asio::io_context& io, tcp::endpoint ep, std::size_t payload)
      : io_(io), ep_(ep), frame_(Frame(payload)) {}

  bool Connect(int slots) {
    for (int i = 0; i < slots; ++i) {
      auto c = std::make_unique<Conn>(io_);
      std::error_code ec;
      c->sock.connect(ep_, ec);
      if (ec) {
        std::fprintf(stderr, "connect %s: %s\n", ep_.address().to_string().c_str(),
                     ec.message().c_str());
        return false;
      }
      c->sock.set_option(tcp::no_delay(true));
      c->in.resize(frame_.size());
      conns_.push_back(std::move(c));
    }
    return true;
  }

  void Call(int slot) override {
    Conn& c = *conns_[static_cast<std::size_t>(slot)];
    c.have = 0;
    asio::async_write(c.sock, asio::buffer(frame_), [this, slot](std::error_code ec, std::size_t) {
      if (ec) return sink_->Done(slot, false);
      Read(slot);
    });
  }

  bool Probe() override {
    asio::io_context io;
    tcp::socket s(io);
    std::error_code ec;
    s.connect(ep_, ec);
    if (ec) return false;
    asio::write(s, asio::buffer(frame_), ec);
    std::string in(frame_.size(), '\0');
    if (!ec) asio::read(s, asio::buffer(in), ec);
    return !ec;
  }

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : sock(io) {}
    tcp::socket sock;
    std::string in;
    std::size_t have = 0;
  };

  void Read(int slot) {
    Conn& c = *conns_[static_cast<std::size_t>(slot)];
    c.sock.async_read_some(asio::buffer(c.in.data() + c.have, c.in.size() - c.have),
                           [this, slot](std::error_code ec, std::size_t n) {
                             Conn& conn = *conns_[static_cast<std::size_t>(slot)];
                             if (ec) return sink_->Done(slot, false);
                             conn.have += n;
                             if (conn.have >= 4) {
                               const std::size_t want = 4 + ReadBe32(conn.in.data());
                               if (conn.in.size() < want) conn.in.resize(want);
                               if (conn.have >= want) return sink_->Done(slot, true);
                             }
                             Read(slot);
                           });
  }

  asio::io_context& io_;
  tcp::endpoint ep_;
  std::string frame_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace

int main(int argc, char** argv) {
  bench::LoadOptions opts;
  opts.name = "raw";
  if (auto err = bench::ParseLoadOptions(argc, argv, "raw-echo-bench --address host:port", opts);
      !err.empty()) {
    std::fprintf(stderr, "raw-echo-bench: %s\n", err.c_str());
    return 2;
  }
  auto ep = ParseEndpoint(opts.address);
  if (!ep) {
    std::fprintf(stderr, "raw-echo-bench: --address host:port needed\n");
    return 2;
  }
  asio::io_context io(opts.threads);
  auto work = asio::make_work_guard(io);
  RawTarget target(io, *ep, opts.payload);
  if (!opts.startup && !target.Connect(opts.concurrency)) return 1;
  std::vector<std::thread> threads;
  for (int i = 0; i < opts.threads; ++i) threads.emplace_back([&] { io.run(); });
  const int rc = bench::RunLoad(opts, target);
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  return rc;
}
