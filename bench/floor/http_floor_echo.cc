// The go-micro wire's floor: a minimal HTTP/1.1 keep-alive server that answers each request
// (go-micro's transport shape: POST with Content-Length) with its body, as an echo service's
// protobuf answer would be (echo.Request and echo.Response share their one field). No routing,
// no codec, no header map: only what any HTTP/1.1 peer must do. One I/O thread, so a server
// pinned to one core is compared with others pinned the same way.
//   http-floor-echo [--address 127.0.0.1:0]      prints "listening on <host:port>"
#include <array>
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
#include <string_view>
#include <vector>

namespace {

using asio::ip::tcp;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxBody = 64 * 1024 * 1024;

// The value of Content-Length in a header block (case-insensitive name), or 0.
std::size_t ContentLength(std::string_view head) {
  constexpr std::string_view kName = "\r\ncontent-length:";
  for (std::size_t i = 0; i + kName.size() <= head.size(); ++i) {
    std::size_t j = 0;
    while (j < kName.size() && std::tolower(static_cast<unsigned char>(head[i + j])) == kName[j]) {
      ++j;
    }
    if (j != kName.size()) continue;
    std::size_t k = i + j, value = 0;
    while (k < head.size() && head[k] == ' ') ++k;
    while (k < head.size() && head[k] >= '0' && head[k] <= '9')
      value = value * 10 + (head[k++] - '0');
    return value;
  }
  return 0;
}

asio::awaitable<void> Serve(tcp::socket sock) {
  std::vector<char> buf(64 * 1024);
  std::size_t have = 0;
  std::string out;
  for (;;) {
    // Answer every complete request in the buffer with one write.
    std::size_t done = 0;
    out.clear();
    for (;;) {
      std::string_view rest(buf.data() + done, have - done);
      const auto end = rest.find("\r\n\r\n");
      if (end == std::string_view::npos) break;
      const std::size_t len = ContentLength(rest.substr(0, end + 2));
      if (len > kMaxBody) co_return;
      const std::size_t total = end + 4 + len;
      if (rest.size() < total) {
        if (buf.size() < total) buf.resize(total);
        break;
      }
      std::array<char, 128> head{};
      const int n = std::snprintf(head.data(), head.size(),
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/protobuf\r\n"
                                  "Content-Length: %zu\r\n\r\n",
                                  len);
      out.append(head.data(), static_cast<std::size_t>(n));
      out.append(rest.data() + end + 4, len);
      done += total;
    }
    if (!out.empty()) {
      auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(out), kNoThrow);
      if (wec) co_return;
      std::memmove(buf.data(), buf.data() + done, have - done);
      have -= done;
    }
    if (have == buf.size()) buf.resize(buf.size() * 2);
    auto [ec, n] =
        co_await sock.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), kNoThrow);
    if (ec) co_return;
    have += n;
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
      std::printf("http-floor-echo [--address host:port]\n");
      return 0;
    }
  }
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "bad address %s\n", address.c_str());
    return 2;
  }
  asio::io_context io(1);
  tcp::acceptor acceptor(io);
  std::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(address.substr(0, colon), ec),
                   static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (ec) {
    std::fprintf(stderr, "bad address %s\n", address.c_str());
    return 2;
  }
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep, ec);
  if (ec) {
    std::fprintf(stderr, "bind %s: %s\n", address.c_str(), ec.message().c_str());
    return 1;
  }
  acceptor.listen();
  std::printf("listening on %s:%u\n", address.substr(0, colon).c_str(),
              acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { io.stop(); });
  asio::co_spawn(io, AcceptLoop(acceptor), asio::detached);
  io.run();
  return 0;
}
