// Handlers: what a server runs for each endpoint ("Handler.Method", as go-micro names them).
//
// Users normally implement a generated interface (greeter::GreeterHandler) and call the
// generated RegisterGreeterHandler(server, handler); the generated code builds a
// micro::Handler with the typed helpers below. Writing one by hand:
//
//   micro::Handler h{.name = "Adder"};
//   h.endpoints.push_back(micro::UnaryEndpoint<AddRequest, AddResponse>(
//       "Adder.Add", [](micro::Context&, const AddRequest& req, AddResponse& rsp) {
//         rsp.set_sum(req.a() + req.b());
//         return micro::Status{};
//       }));
//   server->Handle(std::move(h));
//
// Kinds of handler code:
// - sync (UnaryEndpoint, StreamEndpoint): runs on the server's handler pool, never on an I/O
//   thread, so it may block (and make sync client calls).
// - coroutine (AsyncUnaryEndpoint): runs on the I/O threads with no thread hop; it must not
//   block, only co_await.
// A handler that throws becomes a 500 error whose detail is the exception's message.
//
// Wrappers (middleware) see every unary call: `HandlerWrapper` takes the next function and
// returns a new one. They are applied so that the first listed is the outermost, as go-micro.
// Wrapper functions are coroutines; they are stored by the server for its lifetime.
// Streams have their own chain (go-micro's server.StreamWrapper): a `ServerStreamWrapper` sees
// each stream once, when its handler runs, and may refuse it (return an error without calling
// next: the client receives it as the stream's error) or hand `next` a ServerStream of its own
// that decorates the real one (to observe or change every message). Stream wrapper functions are
// plain functions run on the stream's handler thread (they may block), first listed outermost.
#pragma once

#include <google/protobuf/message.h>
#include <micro/context.h>
#include <micro/metadata.h>
#include <micro/status.h>

#include <asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace micro {

// A unary request as wrappers see it.
struct ServerRequest {
  std::string_view service;               // Micro-Service
  std::string_view endpoint;              // "Greeter.Hello"
  std::string_view content_type;          // the request's codec
  const Metadata& header;                 // every request header (also in ctx.metadata())
  const google::protobuf::Message& body;  // the decoded request
};

using HandlerFunc = std::function<asio::awaitable<Status>(Context& ctx, const ServerRequest& req,
                                                          google::protobuf::Message& rsp)>;
using HandlerWrapper = std::function<HandlerFunc(HandlerFunc next)>;

class ServerStream;

// A stream as stream wrappers see it (valid during the handler's run).
struct ServerStreamRequest {
  std::string_view service;       // Micro-Service
  std::string_view endpoint;      // "Streamer.Bidi"
  std::string_view content_type;  // the stream's codec
  const Metadata& header;         // the opening message's headers (also in ctx.metadata())
};

using ServerStreamFunc =
    std::function<Status(Context& ctx, const ServerStreamRequest& req, ServerStream& stream)>;
using ServerStreamWrapper = std::function<ServerStreamFunc(ServerStreamFunc next)>;

// The server side of one stream. Blocking: used from sync handlers on the handler pool.
class ServerStream {
 public:
  virtual ~ServerStream() = default;
  virtual Context& context() = 0;
  // Sends one message to the client.
  virtual Status SendMsg(const google::protobuf::Message& msg) = 0;
  // Receives the next client message. False at the end of the stream (the client sent EOS or
  // half-closed) or on failure; status() tells which.
  virtual bool RecvMsg(google::protobuf::Message& msg) = 0;
  // Ok after a clean end of stream; the error otherwise.
  virtual Status status() const = 0;
};

// A typed view of a ServerStream (generated code uses it).
template <class Req, class Rsp>
class TypedServerStream {
 public:
  explicit TypedServerStream(ServerStream& stream) : stream_(stream) {}
  Context& context() { return stream_.context(); }
  Status Send(const Rsp& msg) { return stream_.SendMsg(msg); }
  bool Recv(Req& msg) { return stream_.RecvMsg(msg); }
  Status status() const { return stream_.status(); }

 private:
  ServerStream& stream_;
};

enum class StreamKind { kUnary, kClientStream, kServerStream, kBidiStream };

// One endpoint: its description (advertised in the registry) and its code.
struct Endpoint {
  std::string name;  // "Handler.Method"
  StreamKind kind = StreamKind::kUnary;
  const google::protobuf::Descriptor* request = nullptr;
  const google::protobuf::Descriptor* response = nullptr;
  std::map<std::string, std::string> metadata;  // extra endpoint metadata for the registry

  // Exactly one of these is set.
  std::function<Status(Context&, const google::protobuf::Message&, google::protobuf::Message&)>
      sync_unary;
  std::function<asio::awaitable<Status>(Context&, const google::protobuf::Message&,
                                        google::protobuf::Message&)>
      async_unary;
  std::function<Status(Context&, ServerStream&)> sync_stream;
  // A sync_unary that never blocks (no I/O, no sync client calls, no long locks): the server runs
  // it on the I/O thread that read the request instead of handing it to the handler pool and
  // back (two thread hops per call). A blocking library call made from it fails with an error,
  // as from any coroutine handler, rather than stall the I/O thread.
  bool non_blocking = false;
};

// A named group of endpoints: go-micro's handler (the "Greeter" of "Greeter.Hello").
struct Handler {
  std::string name;
  std::vector<Endpoint> endpoints;
  bool internal = false;  // served but not advertised in the registry
};

// How a generated RegisterXHandler / NewXHandler builds its Handler (go-micro's
// server.HandlerOption: InternalHandler, EndpointMetadata).
struct HandlerOptions {
  bool internal = false;  // served but not advertised in the registry
  // Extra registry metadata per endpoint, keyed by endpoint name ("Greeter.Hello"); added to
  // (and overriding) what the generated code sets, such as "stream" = "true".
  std::map<std::string, std::map<std::string, std::string>> endpoint_metadata;
  // Every sync unary method of the handler is Endpoint::non_blocking.
  bool non_blocking = false;
};

// Applies opts to a built handler: sets `internal`, merges endpoint metadata.
inline void ApplyHandlerOptions(Handler& handler, const HandlerOptions& opts) {
  handler.internal = opts.internal;
  for (Endpoint& e : handler.endpoints) {
    if (opts.non_blocking) e.non_blocking = true;
    if (auto it = opts.endpoint_metadata.find(e.name); it != opts.endpoint_metadata.end()) {
      for (const auto& [key, value] : it->second) e.metadata[key] = value;
    }
  }
}

// --- typed helpers -------------------------------------------------------------------------

template <class Req, class Rsp>
Endpoint UnaryEndpoint(std::string name, std::function<Status(Context&, const Req&, Rsp&)> fn) {
  Endpoint e;
  e.name = std::move(name);
  e.request = Req::descriptor();
  e.response = Rsp::descriptor();
  e.sync_unary = [fn = std::move(fn)](Context& ctx, const google::protobuf::Message& req,
                                      google::protobuf::Message& rsp) {
    return fn(ctx, static_cast<const Req&>(req), static_cast<Rsp&>(rsp));
  };
  return e;
}

template <class Req, class Rsp>
Endpoint AsyncUnaryEndpoint(std::string name,
                            std::function<asio::awaitable<Status>(Context&, const Req&, Rsp&)> fn) {
  Endpoint e;
  e.name = std::move(name);
  e.request = Req::descriptor();
  e.response = Rsp::descriptor();
  e.async_unary = [fn = std::move(fn)](Context& ctx, const google::protobuf::Message& req,
                                       google::protobuf::Message& rsp) {
    return fn(ctx, static_cast<const Req&>(req), static_cast<Rsp&>(rsp));
  };
  return e;
}

template <class Req, class Rsp>
Endpoint StreamEndpoint(std::string name, StreamKind kind,
                        std::function<Status(Context&, TypedServerStream<Req, Rsp>&)> fn) {
  Endpoint e;
  e.name = std::move(name);
  e.kind = kind;
  e.request = Req::descriptor();
  e.response = Rsp::descriptor();
  e.metadata["stream"] = "true";
  e.sync_stream = [fn = std::move(fn)](Context& ctx, ServerStream& stream) {
    TypedServerStream<Req, Rsp> typed(stream);
    return fn(ctx, typed);
  };
  return e;
}

}  // namespace micro
