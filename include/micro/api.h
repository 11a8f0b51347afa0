// micro::api: the API gateway of the Micro toolkit (`micro api`), embeddable in any program.
//
//   micro::Service service({.name = "go.micro.api"});
//   if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
//   auto gw = micro::api::Gateway::Start({.address = "127.0.0.1:8080"},
//                                        micro::api::PartsOf(service));
//   if (!gw) return service.Fail(gw.error());
//   return service.Run();   // the gateway serves until it is destroyed
//
// HTTP in, RPC out, as go-micro's `micro api` (v1/v2) does:
// - `POST /rpc` (form fields or a JSON body `{service, endpoint|method, address, request}`,
//   `Timeout` header in seconds) calls any endpoint with JSON and answers its JSON.
// - Every other path is resolved to a service and an endpoint (Resolver) and served by a
//   handler (HandlerKind): `rpc` (the body or query as JSON, or protobuf as it is; WebSocket for
//   stream endpoints), `api` (the whole request as go.api.Request, go.api.Response back),
//   `http`/`proxy` and `web` (reverse proxy to an HTTP service found in the registry; `web` also
//   tunnels WebSockets), `event` (publishes a go.api.Event), or `meta` (the default: the
//   endpoint's `handler` metadata in the registry picks one of those, rpc when it has none).
// - Errors are go-micro error JSON (`{"id","code","detail","status"}`) with the error's code as
//   the HTTP status: malformed JSON or form 400, unknown service what the client says (500,
//   `go.micro.client`), oversized body 413, slow client 408.
//
// Threading: Gateway methods may be called from any thread. Requests are served on the parts'
// executor (the service's I/O threads). The resolver functions are pure.
#pragma once

#include <micro/client.h>
#include <micro/registry.h>
#include <micro/status.h>

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace micro {
class Service;
}

namespace micro::api {

inline constexpr std::string_view kErrorId = "go.micro.api";     // gateway errors
inline constexpr std::string_view kRpcErrorId = "go.micro.rpc";  // /rpc errors

// --- resolvers: HTTP request -> service and endpoint --------------------------------------

struct Route {
  std::string service;   // with the namespace applied
  std::string endpoint;  // "Say.Hello"; for http/web routes the HTTP method
  friend bool operator==(const Route&, const Route&) = default;
};

// go-micro's namespace rule (micro v1 router): ns ending in '.' -> ns+name; ending in '-' ->
// ns+name with every '.' replaced by '-'; empty -> name; else ns + "." + name.
std::string WithNamespace(std::string_view ns, std::string_view name);

// The `micro` resolver (handlers meta, api, rpc): clean the path, split on '/':
// `/foo` -> foo, Foo.Call; `/foo/bar` -> foo, Foo.Bar; `/v1/foo/bar` -> v1.foo, Foo.Bar;
// `/a/b/c/d` -> a.b, C.D; hyphenated method parts CamelCased (`get-user` -> GetUser).
// Empty service for `/`.
Route ResolveMicro(std::string_view path, std::string_view ns);

// The proxy route (handlers http, proxy, web): the first segment, or `vN.svc` when the first
// segment is a version and there are more than two; the name must match
// `^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$` (else empty). endpoint = the HTTP method.
Route ResolveProxy(std::string_view path, std::string_view method, std::string_view ns);

// Any of go-micro's resolvers by name: "micro", "host", "path", "vpath", "grpc". An unknown
// name, or a path the resolver cannot map (`/` for path/vpath/grpc), is a 400/500 Error.
Result<Route> Resolve(std::string_view resolver, std::string_view path, std::string_view host,
                      std::string_view method, std::string_view ns);

// --- handlers -----------------------------------------------------------------------------

enum class HandlerKind { kMeta, kRpc, kApi, kHttp, kEvent, kWeb };
// "meta", "rpc", "api", "http" or "proxy", "event", "web"; nullopt otherwise.
std::optional<HandlerKind> ParseHandlerKind(std::string_view name);
std::string_view HandlerName(HandlerKind kind);

// --- the gateway --------------------------------------------------------------------------

struct GatewayOptions {
  std::string address = "127.0.0.1:8080";         // `--address`, MICRO_API_ADDRESS
  std::string handler = "meta";                   // `--handler`, MICRO_API_HANDLER
  std::string resolver = "micro";                 // `--resolver`, MICRO_API_RESOLVER
  std::string ns = "go.micro.api";                // `--namespace`, MICRO_API_NAMESPACE ("" = plain)
  bool enable_rpc = true;                         // serve POST /rpc (go-micro v1/v2 default: off)
  bool enable_cors = true;                        // CORS headers and OPTIONS preflight (v2 default)
  std::size_t max_body_bytes = 10 * 1024 * 1024;  // larger: 413
  std::size_t max_header_bytes = 1024 * 1024;     // larger: 431 (Go's DefaultMaxHeaderBytes)
  Duration read_timeout = std::chrono::seconds(30);   // whole request; slower: 408
  Duration idle_timeout = std::chrono::seconds(120);  // keep-alive connections
  std::size_t max_connections = 10000;
};

// What the gateway calls through: a client (required; the event handler publishes through its
// broker), the registry (meta, http and web handlers: a RegistryCache is used as it is, any other
// registry gets a cache of the gateway's own) and the executor to serve on.
struct GatewayParts {
  std::shared_ptr<Client> client;
  std::shared_ptr<Registry> registry;
  asio::any_io_executor executor;  // empty: the client's executor
};

// The parts of a Service (after Init): its client, its registry cache and its I/O threads.
GatewayParts PartsOf(Service& service);

class Gateway {
 public:
  // Binds at once (Addr() is final when it returns) and serves until Close() or destruction.
  // Errors: 400 for a bad option (unknown handler or resolver), 500 when it cannot listen.
  static Result<std::unique_ptr<Gateway>> Start(GatewayOptions options, GatewayParts parts);
  virtual ~Gateway() = default;
  virtual std::string Addr() const = 0;
  // Stops accepting and closes open connections. Idempotent.
  virtual void Close() = 0;
};

// GatewayOptions from MICRO_API_* variables over the defaults (flags are applied by the caller
// after this): MICRO_API_ADDRESS, _HANDLER, _RESOLVER, _NAMESPACE, _ENABLE_RPC, _ENABLE_CORS.
GatewayOptions OptionsFromEnv();

}  // namespace micro::api
