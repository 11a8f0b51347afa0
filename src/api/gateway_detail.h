// The gateway's shared state and its handlers, split over gateway.cc (dispatch, /rpc, rpc, api,
// event), proxy.cc (http and web reverse proxy, WebSocket tunnel) and ws_stream.cc (stream
// endpoints over WebSocket).
//
// Also the toolkit's other HTTP faces build on it: the web dashboard (src/web) serves /rpc and
// its /{service} proxy through ServeGateway and ServeProxy, the sidecar (src/sidecar) serves
// /rpc and every path it does not own itself through ServeGateway.
#pragma once

#include <asio/awaitable.hpp>
#include <memory>
#include <string>

#include "http/server.h"
#include "micro/api.h"
#include "micro/context.h"
#include "micro/http_client.h"
#include "micro/registry.h"

namespace micro::api_detail {

struct GatewayState {
  api::GatewayOptions options;
  api::GatewayParts parts;
  api::HandlerKind kind = api::HandlerKind::kMeta;
  std::shared_ptr<RegistryCache> cache;        // lookups for meta, proxy and streams
  std::unique_ptr<http::Client> proxy_client;  // http/web handlers
};

// Checks the options (400 for an unknown handler or resolver, or no client) and builds the
// state; the registry becomes a cache as Gateway::Start describes.
Result<std::shared_ptr<GatewayState>> NewGatewayState(api::GatewayOptions options,
                                                      api::GatewayParts parts);

// The http::Server options for the gateway's limits and timeouts.
http::ServerOptions ServerOptionsFor(const api::GatewayOptions& options);

// One request through the gateway: CORS (preflight and headers), /rpc, then the resolver and
// handler. What Gateway::Start serves.
asio::awaitable<http::ServerReply> ServeGateway(std::shared_ptr<GatewayState> state,
                                                http::ServerRequest& request);

// go-micro error JSON with the error's code as HTTP status (0 or out of range: 500).
http::ServerReply ErrorReply(const Error& error);

// HTTP headers as call metadata (hop-by-hop and framing headers left out).
Metadata MetadataFrom(const http::ServerRequest& request);

// The registry entry of a service, looked up without blocking the I/O thread.
asio::awaitable<Result<registry::SnapshotPtr>> LookupService(const GatewayState& state,
                                                             std::string name);

// The reverse proxy (handlers http/proxy and web): to a random node of `service`; `web` also
// tunnels WebSocket upgrades. A non-empty base_path ("/greeter", micro web's proxy) is cut from
// the front of the target sent upstream ("/greeter/x?y" -> "/x?y", "/greeter" -> "/") and sent
// as the X-Micro-Web-Base-Path header, so the app can prefix its links.
asio::awaitable<http::ServerReply> ServeProxy(std::shared_ptr<GatewayState> state,
                                              http::ServerRequest& request, std::string service,
                                              bool websockets, std::string base_path = {});

// A stream endpoint over WebSocket: one JSON message per frame both ways.
http::ServerReply ServeStream(std::shared_ptr<GatewayState> state, http::ServerRequest& request,
                              const api::Route& route);

}  // namespace micro::api_detail
