// The http/proxy and web handlers: a reverse proxy to a random node of an HTTP service found
// in the registry; `web` also tunnels WebSocket upgrades byte for byte.
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <random>

#include "api/gateway_detail.h"
#include "api/request_codec.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"

namespace micro::api_detail {
namespace {

using asio::ip::tcp;
constexpr auto kProxyNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

bool IsHopByHop(std::string_view name) {
  static constexpr std::string_view kHop[] = {
      "Connection",          "Keep-Alive", "Proxy-Authenticate",
      "Proxy-Authorization", "Te",         "Trailer",
      "Transfer-Encoding",   "Upgrade",    "Proxy-Connection",
      "Content-Length"};
  for (auto h : kHop) {
    if (EqualsIgnoreCase(name, h)) return true;
  }
  return false;
}

const registry::Node& PickNode(const registry::Snapshot& snapshot) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, snapshot.nodes.size() - 1);
  return snapshot.nodes[pick(rng)];
}

// The target sent upstream: without base_path in front ("" stays as it is).
std::string UpstreamTarget(const std::string& target, const std::string& base_path) {
  if (base_path.empty() || target.rfind(base_path, 0) != 0) return target;
  std::string rest = target.substr(base_path.size());
  if (rest.empty() || rest[0] != '/') rest.insert(0, "/");
  return rest;
}

// The request as it arrived (its target cut as UpstreamTarget), for the upstream of a tunnel.
std::string UpstreamHead(const http::ServerRequest& request, const std::string& base_path) {
  std::string head = std::string(request.method) + " " + UpstreamTarget(request.target, base_path) +
                     " HTTP/1.1\r\n";
  for (const auto& [k, v] : request.header) {
    if (EqualsIgnoreCase(k, "Content-Length")) continue;
    if (EqualsIgnoreCase(k, "X-Micro-Web-Base-Path")) continue;
    head += CanonicalHeaderKey(k) + ": " + v + "\r\n";
  }
  if (!base_path.empty()) head += "X-Micro-Web-Base-Path: " + base_path + "\r\n";
  if (!request.body.empty())
    head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  head += "\r\n";
  head += request.body;
  return head;
}

// Copies bytes one way until either side ends, then closes both.
asio::awaitable<void> PumpDown(http::ByteStream& down, tcp::socket& up) {
  std::string buf(16 * 1024, '\0');
  for (;;) {
    auto n = co_await down.ReadSome(buf.data(), buf.size());
    if (!n || *n == 0) break;
    auto [ec, written] =
        co_await asio::async_write(up, asio::buffer(buf.data(), *n), kProxyNoThrow);
    if (ec) break;
  }
  std::error_code ignored;
  up.close(ignored);
  down.Close();
}

asio::awaitable<void> PumpUp(tcp::socket& up, http::ByteStream& down) {
  std::string buf(16 * 1024, '\0');
  for (;;) {
    auto [ec, n] = co_await up.async_read_some(asio::buffer(buf), kProxyNoThrow);
    if (ec || n == 0) break;
    if (Status s = co_await down.Write(std::string_view(buf.data(), n)); !s) break;
  }
  std::error_code ignored;
  up.close(ignored);
  down.Close();
}

asio::awaitable<void> Tunnel(http::ByteStream& down, std::string address, std::string head) {
  using namespace asio::experimental::awaitable_operators;
  auto hp = plugin::ParseHostPort(address);
  if (!hp) co_return;
  tcp::resolver resolver(down.executor());
  const std::string port = std::to_string(hp->min_port);  // named: no temporaries in co_await
  auto [rec, endpoints] = co_await resolver.async_resolve(hp->host, port, kProxyNoThrow);
  if (rec) co_return;
  tcp::socket up(down.executor());
  auto [cec, ep] = co_await asio::async_connect(up, endpoints, kProxyNoThrow);
  if (cec) {
    (void)co_await down.Write(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    co_return;
  }
  auto [wec, n] = co_await asio::async_write(up, asio::buffer(head), kProxyNoThrow);
  if (wec) co_return;
  co_await (PumpDown(down, up) && PumpUp(up, down));
}

}  // namespace

asio::awaitable<http::ServerReply> ServeProxy(std::shared_ptr<GatewayState> state,
                                              http::ServerRequest& request, std::string service,
                                              bool websockets, std::string base_path) {
  if (service.empty()) {
    co_return ErrorReply(errors::NotFound(std::string(api::kErrorId), "not found"));
  }
  auto snapshot = co_await LookupService(*state, service);
  if (!snapshot) co_return ErrorReply(snapshot.error());
  if ((*snapshot)->nodes.empty()) {
    co_return ErrorReply(
        errors::New(std::string(api::kErrorId), "service " + service + ": no nodes", 503));
  }
  const std::string address = PickNode(**snapshot).address;
  if (websockets && request.WantsWebSocket()) {
    http::ServerReply reply;
    reply.take_over = [address, head = UpstreamHead(request, base_path)](
                          http::ByteStream& down) -> asio::awaitable<void> {
      co_await Tunnel(down, address, head);
    };
    co_return reply;
  }
  http::Request out{.method = std::string(request.method),
                    .target = UpstreamTarget(request.target, base_path)};
  for (const auto& [k, v] : request.header) {
    if (!IsHopByHop(k)) out.header.Set(k, v);
  }
  if (!base_path.empty()) out.header.Set("X-Micro-Web-Base-Path", base_path);
  out.header.Set("X-Forwarded-For", ForwardedFor(request));
  out.body = request.body;
  Context ctx;
  auto rsp = co_await state->proxy_client->Send(address, std::move(out), ctx);
  if (!rsp) {
    co_return ErrorReply(errors::New(std::string(api::kErrorId),
                                     "proxy to " + service + ": " + rsp.error().detail, 502));
  }
  http::ServerReply reply;
  reply.status = rsp->status;
  for (const auto& [k, v] : rsp->header) {
    if (!IsHopByHop(k)) reply.header.emplace_back(k, v);
  }
  reply.body = std::move(rsp->body);
  co_return reply;
}

}  // namespace micro::api_detail
