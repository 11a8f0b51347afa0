// The API gateway: request dispatch (/rpc, resolvers, handlers), CORS and errors.
#include <algorithm>
#include <asio/async_result.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdlib>
#include <iterator>

#include "api/gateway_detail.h"
#include "api/request_codec.h"
#include "micro/codec.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/service.h"
#include "micro/version.h"
#include "util/json_text.h"

namespace micro::api {
namespace {

using api_detail::ErrorReply;
using api_detail::GatewayState;
using api_detail::MediaType;
using http::ServerReply;
using http::ServerRequest;

bool IsProtoType(std::string_view media) {
  return media == "application/grpc" || media == "application/grpc+proto" ||
         media == "application/proto" || media == "application/protobuf" ||
         media == "application/proto-rpc" || media == "application/octet-stream";
}

void AddCors(const ServerRequest& request, ServerReply& reply) {
  static constexpr std::string_view kMethods = "POST, PATCH, GET, OPTIONS, PUT, DELETE";
  static constexpr std::string_view kHeaders =
      "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token, Authorization";
  // The usual case, every reply of a busy gateway: no Origin, no CORS header of the handler's
  // own. The four lines are then a constant, written without building a pair per header.
  static constexpr std::string_view kAnyOrigin =
      "Access-Control-Allow-Origin: *\r\n"
      "Access-Control-Allow-Credentials: true\r\n"
      "Access-Control-Allow-Methods: POST, PATCH, GET, OPTIONS, PUT, DELETE\r\n"
      "Access-Control-Allow-Headers: Accept, Content-Type, Content-Length, Accept-Encoding, "
      "X-CSRF-Token, Authorization\r\n";
  static constexpr std::string_view kNames[] = {
      "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
      "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"};
  auto origin = request.header.GetOr("Origin");
  bool handler_set_one = false;
  for (auto name : kNames) handler_set_one = handler_set_one || !reply.Get(name).empty();
  if (origin.empty() && !handler_set_one && reply.fixed_lines.empty()) {
    reply.fixed_lines = kAnyOrigin;
    return;
  }
  auto set = [&](std::string_view name, std::string_view value) {
    if (reply.Get(name).empty()) reply.header.emplace_back(std::string(name), std::string(value));
  };
  set(kNames[0], origin.empty() ? std::string_view("*") : origin);
  set(kNames[1], "true");
  set(kNames[2], kMethods);
  set(kNames[3], kHeaders);
}

ServerReply JsonReply(int status, std::string body) {
  ServerReply reply;
  reply.status = status;
  reply.header.emplace_back("Content-Type", "application/json");
  reply.body = std::move(body);
  return reply;
}

// One call with a raw body; the answer's bytes become the reply.
struct RawCall {
  Route route;
  std::string content_type;  // what the body is and the answer should be
  std::string body;
  std::string address;
  std::optional<Duration> timeout;
  std::string_view error_id;  // id for errors with code 0
};

// call is the caller's named object (g++ 12 destroys temporaries inside co_await twice); its
// route, content type and body are moved out.
asio::awaitable<Result<std::string>> Call(const GatewayState& state, const ServerRequest& request,
                                          RawCall& call) {
  Context ctx;
  ctx.metadata() = api_detail::MetadataFrom(request);
  codec::Frame in{std::move(call.body)}, out;
  ClientRequest req{std::move(call.route.service), std::move(call.route.endpoint),
                    std::move(call.content_type), &in};
  CallOptions opts;
  if (call.timeout) opts.request_timeout = call.timeout;
  if (!call.address.empty()) opts.address = {call.address};
  Status s = co_await state.parts.client->AsyncCall(ctx, req, &out, opts);
  if (!s) {
    Error e = std::move(s).error();
    if (e.code == 0) {
      e = errors::InternalServerError(std::string(call.error_id), "error during request: {}",
                                      e.detail);
    }
    co_return e;
  }
  // Go's /rpc hands back a json.RawMessage: the value without the encoder's trailing newline.
  if (req.content_type == "application/json") {
    std::string_view trimmed = util::TrimJsonSpace(out.data);
    if (trimmed.size() != out.data.size()) co_return std::string(trimmed);
  }
  co_return std::move(out.data);
}

std::optional<Duration> TimeoutHeader(const ServerRequest& request) {
  auto text = request.header.GetOr("Timeout");
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  std::string copy(text);
  long long seconds = std::strtoll(copy.c_str(), &end, 10);
  if (end == copy.c_str() || *end != '\0' || seconds <= 0) return std::nullopt;  // ignored
  return std::chrono::seconds(seconds);
}

// POST /rpc: micro's RPC endpoint.
asio::awaitable<ServerReply> ServeRpcEndpoint(std::shared_ptr<GatewayState> state,
                                              ServerRequest& request) {
  if (request.method != "POST") {
    ServerReply reply;
    reply.status = 405;
    reply.header.emplace_back("Content-Type", "text/plain; charset=utf-8");
    reply.body = "Method not allowed";
    co_return reply;
  }
  auto call = api_detail::DecodeRpcCall(request);
  if (!call) co_return ErrorReply(call.error());
  // Named, never a braced temporary inside co_await (g++ 12 destroys those twice).
  RawCall raw{.route = {std::move(call->service), std::move(call->endpoint)},
              .content_type = "application/json",
              .body = std::move(call->request),
              .address = std::move(call->address),
              .timeout = TimeoutHeader(request),
              .error_id = kRpcErrorId};
  auto answer = co_await Call(*state, request, raw);
  if (!answer) co_return ErrorReply(answer.error());
  co_return JsonReply(200, std::move(*answer));
}

// The rpc handler: JSON (query and body) or protobuf as it is.
asio::awaitable<ServerReply> ServeRpc(std::shared_ptr<GatewayState> state, ServerRequest& request,
                                      Route route) {
  std::string media = MediaType(request.header.GetOr("Content-Type"));
  const bool proto = IsProtoType(media);
  RawCall call{.route = std::move(route), .error_id = kErrorId};
  if (proto) {
    call.content_type = media;
    call.body = request.body;
  } else if (media == "application/json-rpc") {
    auto envelope = api_detail::ParseJson(request.body, kErrorId);
    if (!envelope) co_return ErrorReply(envelope.error());
    auto params = envelope->is_object() ? envelope->find("params") : envelope->end();
    if (!envelope->is_object() || params == envelope->end() || !params->is_array() ||
        params->empty()) {
      co_return ErrorReply(errors::BadRequest(std::string(kErrorId), "json-rpc: no params"));
    }
    call.content_type = "application/json";
    call.body = api_detail::DumpJson((*params)[0]);
  } else {
    call.content_type = "application/json";
    call.body = api_detail::RpcHandlerJson(request);
  }
  auto answer = co_await Call(*state, request, call);
  if (!answer) co_return ErrorReply(answer.error());
  ServerReply reply;
  if (answer->empty()) {
    reply.status = 204;
    co_return reply;
  }
  reply.header.emplace_back("Content-Type", proto ? std::move(media) : "application/json");
  reply.body = std::move(*answer);
  co_return reply;
}

// The api handler: go.api.Request in, go.api.Response out.
asio::awaitable<ServerReply> ServeApi(std::shared_ptr<GatewayState> state, ServerRequest& request,
                                      Route route) {
  RawCall raw{.route = std::move(route),
              .content_type = "application/json",
              .body = api_detail::ApiRequestJson(request),
              .error_id = kErrorId};
  auto answer = co_await Call(*state, request, raw);
  if (!answer) co_return ErrorReply(answer.error());
  auto reply = api_detail::ApiResponseReply(*answer);
  if (!reply) co_return ErrorReply(reply.error());
  co_return std::move(*reply);
}

// The event handler: publishes a go.api.Event.
asio::awaitable<ServerReply> ServeEvent(std::shared_ptr<GatewayState> state,
                                        ServerRequest& request) {
  auto route = api_detail::ResolveEvent(request.path, state->options.ns);
  codec::Frame event{api_detail::EventJson(route, request)};
  Context ctx;
  ctx.metadata() = api_detail::MetadataFrom(request);
  MessageOptions opts{.content_type = "application/json"};
  ServerReply reply;
  if (Status s = state->parts.client->Publish(ctx, route.topic, &event, opts); !s) {
    reply.status = 500;
    reply.header.emplace_back("Content-Type", "text/plain; charset=utf-8");
    reply.body = s.error().detail;
  }
  co_return reply;
}

struct EndpointInfo {
  HandlerKind kind = HandlerKind::kRpc;
  bool stream = false;
};

EndpointInfo FindEndpoint(const registry::Snapshot& snapshot, std::string_view name) {
  for (const auto& service : snapshot.services) {
    for (const auto& ep : service.endpoints) {
      if (ep.name != name) continue;
      EndpointInfo info;
      if (auto h = ep.metadata.find("handler"); h != ep.metadata.end()) {
        info.kind = ParseHandlerKind(h->second).value_or(HandlerKind::kRpc);
        if (info.kind == HandlerKind::kMeta) info.kind = HandlerKind::kRpc;
      }
      if (auto s = ep.metadata.find("stream"); s != ep.metadata.end()) {
        info.stream = s->second == "true";
      }
      return info;
    }
  }
  return {};
}

asio::awaitable<ServerReply> Dispatch(std::shared_ptr<GatewayState> state, ServerRequest& request) {
  const auto& o = state->options;
  if (request.path == "/") {
    co_return JsonReply(200, std::string(R"({"version": ")") + kVersion + "\"}");
  }
  if (request.path == "/favicon.ico") co_return ServerReply{};
  if (o.enable_rpc && request.path == "/rpc") co_return co_await ServeRpcEndpoint(state, request);

  HandlerKind kind = state->kind;
  if (kind == HandlerKind::kEvent) co_return co_await ServeEvent(state, request);
  if (kind == HandlerKind::kHttp || kind == HandlerKind::kWeb) {
    Route route =
        o.resolver == "micro"
            ? ResolveProxy(request.path, request.method, o.ns)
            : Resolve(o.resolver, request.path, request.header.GetOr("Host"), request.method, o.ns)
                  .value_or(Route{});
    co_return co_await api_detail::ServeProxy(state, request, route.service,
                                              kind == HandlerKind::kWeb);
  }
  auto route =
      Resolve(o.resolver, request.path, request.header.GetOr("Host"), request.method, o.ns);
  if (!route) co_return ErrorReply(route.error());
  EndpointInfo info{.kind = kind == HandlerKind::kMeta ? HandlerKind::kRpc : kind};
  if (kind == HandlerKind::kMeta || request.WantsWebSocket()) {
    auto snapshot = co_await api_detail::LookupService(*state, route->service);
    if (snapshot) {
      EndpointInfo found = FindEndpoint(**snapshot, route->endpoint);
      info.stream = found.stream;
      if (kind == HandlerKind::kMeta) info.kind = found.kind;
    }
  }
  // An if-chain, not a switch: g++ 12 miscompiles co_await inside switch statements.
  if (info.kind == HandlerKind::kApi) co_return co_await ServeApi(state, request, *route);
  if (info.kind == HandlerKind::kEvent) co_return co_await ServeEvent(state, request);
  if (info.kind == HandlerKind::kHttp || info.kind == HandlerKind::kWeb) {
    const bool web = info.kind == HandlerKind::kWeb;
    co_return co_await api_detail::ServeProxy(state, request, route->service, web);
  }
  if (info.stream && request.WantsWebSocket()) {
    co_return api_detail::ServeStream(state, request, *route);
  }
  co_return co_await ServeRpc(state, request, *route);
}

class GatewayImpl final : public Gateway {
 public:
  GatewayImpl(std::shared_ptr<GatewayState> state, std::shared_ptr<http::Server> server)
      : state_(std::move(state)), server_(std::move(server)) {}
  ~GatewayImpl() override { Close(); }
  std::string Addr() const override { return server_->Addr(); }
  void Close() override { server_->Close(); }

 private:
  std::shared_ptr<GatewayState> state_;
  std::shared_ptr<http::Server> server_;
};

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool Truthy(std::string_view v) { return v == "1" || v == "true" || v == "TRUE" || v == "True"; }

}  // namespace

GatewayParts PartsOf(Service& service) {
  GatewayParts parts;
  parts.client = service.Client();
  parts.registry = service.Cache();  // shared with the client: one watch, one table
  parts.executor = parts.client->executor();
  return parts;
}

GatewayOptions OptionsFromEnv() {
  GatewayOptions o;
  if (auto v = Env("MICRO_API_ADDRESS")) o.address = *v;
  if (auto v = Env("MICRO_API_HANDLER")) o.handler = *v;
  if (auto v = Env("MICRO_API_RESOLVER")) o.resolver = *v;
  if (const char* ns = std::getenv("MICRO_API_NAMESPACE")) o.ns = ns;  // "" is meaningful
  if (auto v = Env("MICRO_API_ENABLE_RPC")) o.enable_rpc = Truthy(*v);
  if (auto v = Env("MICRO_API_ENABLE_CORS")) o.enable_cors = Truthy(*v);
  return o;
}

Result<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options, GatewayParts parts) {
  auto state = api_detail::NewGatewayState(std::move(options), std::move(parts));
  if (!state) return std::move(state).error();
  const auto& o = (*state)->options;
  // Not a coroutine itself: the request's coroutine is ServeGateway's (one frame less a call).
  auto handler = [state = *state](ServerRequest& request) -> asio::awaitable<ServerReply> {
    return api_detail::ServeGateway(state, request);
  };
  auto server = http::Server::Start((*state)->parts.executor, api_detail::ServerOptionsFor(o),
                                    std::move(handler));
  if (!server) return std::move(server).error();
  log::Info("API gateway listening on {} (handler {}, resolver {}, namespace \"{}\")",
            (*server)->Addr(), HandlerName((*state)->kind), o.resolver, o.ns);
  return std::unique_ptr<Gateway>(new GatewayImpl(std::move(*state), std::move(*server)));
}

}  // namespace micro::api

namespace micro::api_detail {

Result<std::shared_ptr<GatewayState>> NewGatewayState(api::GatewayOptions options,
                                                      api::GatewayParts parts) {
  using namespace api;
  auto kind = ParseHandlerKind(options.handler);
  if (!kind) {
    return errors::BadRequest(std::string(kErrorId),
                              "unknown handler \"{}\" (known: meta, rpc, api, http, proxy, "
                              "event, web)",
                              options.handler);
  }
  if (auto probe = Resolve(options.resolver, "/x/y", "x", "GET", ""); !probe) {
    return std::move(probe).error();
  }
  if (!parts.client) return errors::BadRequest(std::string(kErrorId), "the gateway needs a client");
  if (!parts.executor) parts.executor = parts.client->executor();
  auto state = std::make_shared<GatewayState>();
  state->kind = *kind;
  if (parts.registry) {
    if (auto cache = std::dynamic_pointer_cast<RegistryCache>(parts.registry)) {
      state->cache = std::move(cache);
    } else {
      auto made = NewCache(parts.registry);
      if (!made) return std::move(made).error();
      state->cache = std::move(*made);
    }
  }
  state->proxy_client = std::make_unique<http::Client>(
      http::ClientOptions{.request_timeout = options.read_timeout, .executor = parts.executor});
  state->options = std::move(options);
  state->parts = std::move(parts);
  return state;
}

http::ServerOptions ServerOptionsFor(const api::GatewayOptions& o) {
  return http::ServerOptions{.address = o.address,
                             .max_header_bytes = o.max_header_bytes,
                             .max_body_bytes = o.max_body_bytes,
                             .read_timeout = o.read_timeout,
                             .idle_timeout = o.idle_timeout,
                             .max_connections = o.max_connections,
                             .error_id = std::string(api::kErrorId)};
}

asio::awaitable<http::ServerReply> ServeGateway(std::shared_ptr<GatewayState> state,
                                                http::ServerRequest& request) {
  http::ServerReply reply;
  if (state->options.enable_cors && request.method == "OPTIONS") {
    // Preflight: the CORS headers and nothing else.
  } else {
    reply = co_await api::Dispatch(state, request);
  }
  if (state->options.enable_cors && !reply.take_over) api::AddCors(request, reply);
  co_return reply;
}

http::ServerReply ErrorReply(const Error& error) {
  int status = error.code >= 100 && error.code <= 599 ? error.code : 500;
  return api::JsonReply(status, error.ToJson());
}

Metadata MetadataFrom(const http::ServerRequest& request) {
  // Hop-by-hop and framing headers are not passed on (Host is, as go-micro does).
  static constexpr std::string_view kSkip[] = {"Connection", "Content-Length", "Transfer-Encoding",
                                               "Upgrade",    "Keep-Alive",     "Timeout",
                                               "Te",         "Trailer",        "Proxy-Connection"};
  const auto passed_on = [](std::string_view key) {
    if (key.size() > 14 && EqualsIgnoreCase(key.substr(0, 14), "Sec-Websocket-")) return false;
    return std::none_of(std::begin(kSkip), std::end(kSkip),
                        [&](std::string_view skip) { return EqualsIgnoreCase(key, skip); });
  };
  Metadata md;
  md.reserve(request.header.size() + 1);
  // The parser keeps the header sorted, so each Set appends after one comparison.
  for (const auto& [k, v] : request.header) {
    if (passed_on(k)) md.Set(k, v);
  }
  md.Set("Method", std::string(request.method));
  return md;
}

asio::awaitable<Result<registry::SnapshotPtr>> LookupService(const GatewayState& state,
                                                             std::string name) {
  if (!state.cache) co_return registry::ErrNotFound();
  if (auto ready = state.cache->Peek(name)) co_return ready;
  auto initiate = [](auto handler, std::shared_ptr<RegistryCache> cache, std::string service) {
    using Handler = decltype(handler);
    auto shared = std::make_shared<Handler>(std::move(handler));
    cache->LookupAsync(service, [shared](Result<registry::SnapshotPtr> answer) {
      auto ex = asio::get_associated_executor(*shared);
      asio::post(ex,
                 [shared, answer = std::move(answer)]() mutable { (*shared)(std::move(answer)); });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                          void(Result<registry::SnapshotPtr>)>(
      initiate, asio::use_awaitable, state.cache, std::move(name));
}

}  // namespace micro::api_detail
