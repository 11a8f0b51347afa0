#include "server/router.h"

#include <google/protobuf/message.h>

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <exception>
#include <mutex>

namespace micro::server_detail {
namespace {

namespace pb = google::protobuf;

std::string_view Header(const Metadata& h, std::string_view key) {
  return GetHeader(h, key).value_or(std::string_view());
}

std::unique_ptr<pb::Message> NewMessage(const google::protobuf::Descriptor* d) {
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(d);
  return std::unique_ptr<pb::Message>(prototype ? prototype->New() : nullptr);
}

// The codec header fields of a message about this request.
codec::Message Head(const RouteInfo& route, codec::MessageType type) {
  codec::Message m;
  m.type = type;
  m.id = route.id;
  m.target = route.service;
  m.method = route.method;
  m.endpoint = route.endpoint;
  return m;
}

}  // namespace

RouteInfo ReadRouteInfo(const Metadata& header) {
  RouteInfo r;
  r.id = Header(header, "Micro-Id");
  r.service = Header(header, "Micro-Service");
  r.method = Header(header, "Micro-Method");
  r.endpoint = Header(header, "Micro-Endpoint");
  r.stream = Header(header, "Micro-Stream");
  r.content_type = Header(header, "Content-Type");
  if (r.content_type.empty()) r.content_type = "application/protobuf";  // go-micro's default
  const bool routed = !r.service.empty() || !r.method.empty() || !r.endpoint.empty();
  r.legacy = Header(header, "Micro-Protocol").empty() && Header(header, "Micro-Topic").empty() &&
             (!routed || !Header(header, "Micro-Target").empty());
  if (r.endpoint.empty()) r.endpoint = r.method;
  if (r.method.empty()) r.method = r.endpoint;
  return r;
}

Result<std::shared_ptr<const codec::Codec>> RequestCodec(const RouteInfo& route) {
  std::string_view ct = route.content_type;
  if (route.legacy) {
    const std::string normal = codec::NormalizeContentType(ct);
    if (normal == "application/json") ct = "application/json-rpc";
    if (normal == "application/protobuf" || normal == "application/octet-stream") {
      ct = "application/proto-rpc";
    }
  }
  return codec::Lookup(ct);
}

Message UnsupportedContentType(std::string_view content_type) {
  Message m;
  m.header.Set("Content-Type", "text/plain");
  m.body = "unsupported Content-Type: " + std::string(content_type);
  return m;
}

Message ErrorResponse(const codec::Codec* codec, const RouteInfo& route, std::string error_text) {
  Message out;
  if (!route.id.empty()) out.header.Set("Micro-Id", route.id);
  if (codec) {
    codec::Message m = Head(route, codec::MessageType::kError);
    m.error = error_text;
    if (codec->Write(m, {}, out.body) && !out.body.empty()) {
      out.header.Set("Content-Type", route.content_type);
    }
    for (const auto& [k, v] : m.header) out.header.Set(k, v);
  }
  out.header.Set("Micro-Error", error_text);
  out.header.Set("X-Micro-Error", std::move(error_text));
  return out;
}

Context RequestContext(const Metadata& header, std::string_view local, std::string_view remote) {
  Context ctx;
  if (auto timeout = GetHeader(header, "Timeout")) {
    uint64_t ns = 0;
    auto [ptr, ec] = std::from_chars(timeout->data(), timeout->data() + timeout->size(), ns);
    if (ec == std::errc() && ptr == timeout->data() + timeout->size() && ns > 0) {
      ctx = Context::WithTimeout(std::chrono::nanoseconds(ns));
    }
  }
  ctx.metadata().reserve(header.size() + 2);  // kept by the copy: Local and Remote fit
  ctx.metadata() = header;
  ctx.metadata().Set("Local", std::string(local));
  ctx.metadata().Set("Remote", std::string(remote));
  return ctx;
}

Status Router::Add(Handler handler) {
  const std::string id = options_.server_name;
  if (handler.name.empty()) return errors::BadRequest(id, "handler has no name");
  if (handler.endpoints.empty()) {
    return errors::BadRequest(id, "handler {} has no endpoints", handler.name);
  }
  auto entry = std::make_unique<Entry>();
  for (const Endpoint& e : handler.endpoints) {
    const std::string prefix = handler.name + ".";
    if (e.name.rfind(prefix, 0) != 0 || e.name.size() == prefix.size() ||
        e.name.find('.', prefix.size()) != std::string::npos) {
      return errors::BadRequest(id, "endpoint \"{}\" is not {}.<Method>", e.name, handler.name);
    }
    if (!e.request || !e.response) {
      return errors::BadRequest(id, "endpoint {} has no message types", e.name);
    }
    if (e.kind == StreamKind::kUnary) {
      HandlerFunc fn = Innermost(e);
      for (auto it = options_.wrappers.rbegin(); it != options_.wrappers.rend(); ++it)
        fn = (*it)(fn);
      entry->chains.emplace(e.name.substr(prefix.size()), std::move(fn));
    }
  }
  entry->handler = std::move(handler);
  std::unique_lock lock(mu_);
  if (handlers_.count(entry->handler.name)) {
    return errors::Conflict(id, "service already defined: {}", entry->handler.name);
  }
  handlers_.emplace(entry->handler.name, std::move(entry));
  return {};
}

Result<const Endpoint*> Router::Find(std::string_view endpoint) const {
  // go-micro: exactly two dot-separated parts, then the handler, then the method.
  const auto dot = endpoint.find('.');
  if (dot == std::string_view::npos || endpoint.find('.', dot + 1) != std::string_view::npos) {
    return Error{.detail = "rpc: service/endpoint request ill-formed: " + std::string(endpoint)};
  }
  const auto handler_name = endpoint.substr(0, dot);
  const auto method = endpoint.substr(dot + 1);
  std::shared_lock lock(mu_);
  auto it = handlers_.find(handler_name);
  if (it == handlers_.end()) {
    return Error{.detail = "rpc: can't find service " + std::string(handler_name)};
  }
  for (const Endpoint& e : it->second->handler.endpoints) {
    if (std::string_view(e.name).substr(dot + 1) == method) return &e;
  }
  return Error{.detail = "rpc: can't find method " + std::string(method)};
}

std::vector<const Handler*> Router::Advertised() const {
  std::shared_lock lock(mu_);
  std::vector<const Handler*> out;
  for (const auto& [name, entry] : handlers_) {
    if (!entry->handler.internal) out.push_back(&entry->handler);
  }
  return out;
}

HandlerFunc Router::Innermost(const Endpoint& endpoint) const {
  const std::string id = options_.server_name;
  if (endpoint.async_unary) {
    auto fn = endpoint.async_unary;
    return [fn, id](Context& ctx, const ServerRequest& req,
                    pb::Message& rsp) -> asio::awaitable<Status> {
      try {
        co_return co_await fn(ctx, req.body, rsp);
      } catch (const std::exception& e) {
        co_return errors::InternalServerError(id, e.what());
      }
    };
  }
  auto fn = endpoint.sync_unary;
  if (endpoint.non_blocking || options_.inline_handlers) {
    return [this, fn](Context& ctx, const ServerRequest& req,
                      pb::Message& rsp) -> asio::awaitable<Status> {
      auto call = [&] { return fn(ctx, req.body, rsp); };
      co_return RunGuarded(call);
    };
  }
  return [this, fn](Context& ctx, const ServerRequest& req,
                    pb::Message& rsp) -> asio::awaitable<Status> {
    auto call = [&] { return fn(ctx, req.body, rsp); };
    co_return co_await OnPool(call);
  };
}

asio::awaitable<Message> Router::ServeUnary(Message& request, std::string_view local,
                                            std::string_view remote) {
  RouteInfo route = ReadRouteInfo(request.header);
  auto codec = RequestCodec(route);
  if (!codec) co_return UnsupportedContentType(route.content_type);

  codec::Message head = Head(route, codec::MessageType::kRequest);
  head.header = std::move(request.header);  // borrowed, not copied: ReadHeader only reads it
  std::string_view payload;
  Status read = (*codec)->ReadHeader(request.body, head, payload);
  request.header = std::move(head.header);
  if (Status s = std::move(read); !s) {
    co_return ErrorResponse(codec->get(), route,
                            "rpc: router cannot decode request: " + s.error().detail);
  }
  // Framed legacy codecs carry the routing fields in the body.
  if (route.endpoint.empty()) route.endpoint = head.endpoint.empty() ? head.method : head.endpoint;
  if (route.id.empty()) route.id = head.id;
  if (route.method.empty()) route.method = route.endpoint;

  auto endpoint = Find(route.endpoint);
  if (!endpoint) co_return ErrorResponse(codec->get(), route, endpoint.error().detail);
  const std::string_view method =
      std::string_view(route.endpoint).substr(route.endpoint.find('.') + 1);
  const HandlerFunc* chain = nullptr;  // entries are never removed: stable without the lock
  {
    std::shared_lock lock(mu_);
    const auto& entry =
        handlers_.find(std::string_view(route.endpoint).substr(0, route.endpoint.find('.')))
            ->second;
    auto it = entry->chains.find(method);
    if (it == entry->chains.end()) {
      co_return ErrorResponse(
          codec->get(), route,
          errors::BadRequest(options_.server_name, "{} is a streaming endpoint", route.endpoint)
              .ToJson());
    }
    chain = &it->second;
  }

  auto req = NewMessage((*endpoint)->request);
  auto rsp = NewMessage((*endpoint)->response);
  if (Status s = (*codec)->Read(payload, req.get()); !s) {
    co_return ErrorResponse(codec->get(), route, s.error().ToJson());
  }
  Context ctx = RequestContext(request.header, local, remote);
  const ServerRequest info{route.service, route.endpoint, route.content_type, request.header, *req};
  Status status = co_await (*chain)(ctx, info, *rsp);
  if (!status) co_return ErrorResponse(codec->get(), route, status.error().ToJson());

  Message out;
  codec::Message reply = Head(route, codec::MessageType::kResponse);
  if (Status s = (*codec)->Write(reply, rsp.get(), out.body); !s) {
    co_return ErrorResponse(codec->get(), route, "Unable to encode body: " + s.error().detail);
  }
  out.header = std::move(reply.header);
  if (!route.id.empty()) out.header.Set("Micro-Id", route.id);
  if (!out.body.empty()) out.header.Set("Content-Type", route.content_type);
  co_return out;
}

}  // namespace micro::server_detail
