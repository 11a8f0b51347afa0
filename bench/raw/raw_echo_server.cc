// The floor: a plain asio TCP echo server. Each frame is a 4-byte big-endian length and that
// many bytes; the server writes every complete frame back as it came, batching whatever one
// read delivered into one write. One I/O thread.
//   raw-echo-server [--address 127.0.0.1:0]      prints "listening on <host:port>"
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using asio::ip::tcp;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxFrame = 64 * 1024 * 1024;

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

asio::awaitable<void> Serve(tcp::socket sock) {
  std::vector<char> buf(64 * 1024);
  std::size_t have = 0;
  for (;;) {
    if (have == buf.size()) buf.resize(buf.size() * 2);
    auto [ec, n] =
        co_await sock.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), kNoThrow);
    if (ec) co_return;
    have += n;
    std::size_t done = 0;  // bytes of complete frames
    while (have - done >= 4) {
      const std::size_t len = ReadBe32(buf.data() + done);
      if (len > kMaxFrame) co_return;
      if (have - done < 4 + len) {
        if (buf.size() < 4 + len) buf.resize(4 + len);
        break;
      }
      done += 4 + len;
    }
    if (done == 0) continue;
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(buf.data(), done), kNoThrow);
    if (wec) co_return;
    std::memmove(buf.data(), buf.data() + done, have - done);
    have -= done;
  }
}

asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
    if (ec) co_return;
    sock.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), Serve(std::move(sock)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--address" && i + 1 < argc) {
      address = argv[++i];
    } else if (a.rfind("--address=", 0) == 0) {
      address = a.substr(10);
    } else if (a == "--help" || a == "-h") {
      std::printf("raw-echo-server [--address host:port]\n");
      return 0;
    }
  }
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "bad address %s\n", address.c_str());
    return 2;
  }
  asio::io_context io(1);
  std::error_code ec;
  const std::string host = colon == 0 ? "0.0.0.0" : address.substr(0, colon);
  const tcp::endpoint ep(asio::ip::make_address(host, ec),
                         static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (ec) {
    std::fprintf(stderr, "bad host %s\n", host.c_str());
    return 2;
  }
  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "listen on %s: %s\n", address.c_str(), ec.message().c_str());
    return 1;
  }
  const auto local = acceptor.local_endpoint();
  std::printf("listening on %s:%u\n", local.address().to_string().c_str(), local.port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code, int) { io.stop(); });
  asio::co_spawn(io, AcceptLoop(acceptor), asio::detached);
  io.run();
  return 0;
}
