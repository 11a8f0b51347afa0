// micro::Client: calls endpoints of other services (go-micro's mucp client).
//
// Users normally use a generated typed client (greeter::GreeterService, which takes a CallArgs:
// see below); it wraps these calls:
//
//   auto rsp = micro::Call<greeter::Response>(*client, ctx, "greeter", "Greeter.Hello", req);
//   auto rsp2 = co_await micro::AsyncCall<greeter::Response>(*client, ctx, "greeter",
//                                                           "Greeter.Hello", req);
//   (g++ 12: never write a braced CallOptions temporary inside a co_await expression; it is
//   destroyed twice. Use a named variable. CallArgs makes that a compile error.)
//
// A call: resolve nodes (selector, or CallOptions::address / MICRO_PROXY), pick one, send the
// request over a pooled connection with the request's codec, wait for the answer. Retries
// (default 5) follow go-micro: a 408 is retried with backoff; unlike go-micro, a connection
// failure where nothing was sent is retried on another node too, and the failing node is
// marked in the selector, and so is a server's load-shedding 503 ("server busy"). The whole
// call has request_timeout (30 s, or the context's earlier deadline), retries and backoffs
// included: a backoff that would end past it ends the call with the 408 at once; each attempt
// has connection_timeout (5 s, also sent as the `Timeout` header), and its dial is cut to the
// time left. Timeout errors are 408s whose detail names the timeout that fired (and the last
// failure, when the deadline passed after one). Breakers, rate limits and the p2c selector's
// feedback: micro/resilience.h, docs/resilience.md (a pick refused by an open breaker is
// re-picked at once without using up a retry).
//
// Threading: every method may be called from any thread. Sync forms (Call, Stream, Send/Recv
// of a stream) block the caller; made from an I/O thread (Runtime::InIoThread()) they return an
// error at once instead of deadlocking. AsyncCall must be awaited on an I/O executor.
// Errors: a remote error arrives as the Error the server sent; client-side failures use ids
// (micro/error_ids.h) "go.micro.client" (500 connection/selection, 408 timeouts) and
// "go.micro.client.codec" (500: the request did not encode or the answer did not decode, with
// the codec's own detail), as go-micro's client.
#pragma once

#include <google/protobuf/message.h>
#include <micro/codec.h>
#include <micro/context.h>
#include <micro/registry.h>
#include <micro/selector.h>
#include <micro/status.h>
#include <micro/util.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace micro {

class Transport;
class Broker;
class Client;

// What one call sends.
struct ClientRequest {
  std::string service;       // registered service name, e.g. "greeter"
  std::string endpoint;      // "Handler.Method"
  std::string content_type;  // empty: the client's default (application/json)
  codec::WriteBody body;     // the request message or a raw frame (not owned)
};

// One attempt on one node: wrappers (CallWrapper) can observe or replace it.
using CallFunc = std::function<asio::awaitable<Status>(
    Context& ctx, const registry::Node& node, const ClientRequest& req, codec::ReadBody rsp)>;
using CallWrapper = std::function<CallFunc(CallFunc next)>;

class ClientStream;

// One attempt at opening a stream on one node (go-micro's client.StreamWrapper, here at the
// same level as CallWrapper): a wrapper sees each opening, may refuse it (return an Error: the
// client's retry policy then decides, as for a call), and may return its own ClientStream that
// decorates the one `next` opened (to observe or change every message sent and received).
// Runs on the thread that called Client::Stream (blocking is allowed). The ClientRequest and
// node are valid during the call only; ctx is the caller's context (the stream's own context
// is a child of it).
using ClientStreamFunc = std::function<Result<std::unique_ptr<ClientStream>>(
    Context& ctx, const registry::Node& node, const ClientRequest& req)>;
using ClientStreamWrapper = std::function<ClientStreamFunc(ClientStreamFunc next)>;

// (DefaultBackoff, go-micro's backoff, is in micro/util.h.)
// go-micro's retry predicate plus our fix: retry 408s, and failures to connect.
bool DefaultRetry(const Error& error, int attempt);

// How Publish sends one message (go-micro's client.NewMessage options and WithExchange).
struct MessageOptions {
  std::string content_type{};  // empty: the client's default (application/json)
  std::string exchange{};      // publish to this broker topic instead of the message topic
};

// Per-call settings; unset fields take the client's defaults. (An aggregate, so designated
// initialisers work; see CallArgs for the one place that refuses a temporary.)
struct CallOptions {
  std::vector<std::string> address;  // call these "host:port"s, bypassing the selector
  std::optional<int> retries;
  std::optional<Duration> request_timeout;
  std::optional<Duration> connection_timeout;
  std::optional<Duration> dial_timeout;
  std::optional<Duration> stream_timeout;
  std::string content_type;
  SelectOptions select;                              // filters/strategy for this call
  std::vector<CallWrapper> call_wrappers;            // innermost after the client's own
  std::vector<ClientStreamWrapper> stream_wrappers;  // innermost after the client's own
  std::function<bool(const Error&, int attempt)> retry;
  std::function<Duration(int attempt)> backoff;
  bool conn_close = false;  // close the connection after the call
};

// The context and options of one call made through a generated client (XService): neither,
// either, or both.
//
//   micro::CallOptions opts{.retries = 1};
//   greeter.Hello(req);                 greeter.Hello(req, ctx);
//   greeter.Hello(req, opts);           greeter.Hello(req, {ctx, opts});
//   co_await greeter.AsyncHello(req);   co_await greeter.AsyncHello(req, {ctx, opts});
//
// A view: it refers to the caller's context and options and owns nothing. Sync calls use them
// while they run (a non-const context is handed to the Client as is, a const one is copied);
// coroutine and callback calls copy them before returning, so the awaitable may outlive both.
// Without a context a call uses a background one (no deadline); without options, the client's
// defaults.
//
// This is where the library contains a g++ 12 bug: g++ 12 destroys an aggregate temporary made
// inside a co_await expression twice (memory corruption; ASan: "attempting double-free"). A
// CallArgs is not an aggregate, and it refuses CallOptions temporaries (deleted constructors), so
// `co_await svc.AsyncHello(req, {.retries = 1})` does not compile instead of corrupting memory,
// on every compiler; name the options. Context temporaries are fine (Context is no aggregate).
class CallArgs {
 public:
  CallArgs() = default;
  // Implicit on purpose: `svc.M(req, ctx)`, `svc.M(req, opts)`.
  CallArgs(Context& ctx) : ctx_(&ctx), mutable_ctx_(&ctx) {}  // NOLINT
  CallArgs(const Context& ctx) : ctx_(&ctx) {}                // NOLINT
  CallArgs(const CallOptions& opts) : opts_(&opts) {}         // NOLINT
  CallArgs(Context& ctx, const CallOptions& opts) : ctx_(&ctx), mutable_ctx_(&ctx), opts_(&opts) {}
  CallArgs(const Context& ctx, const CallOptions& opts) : ctx_(&ctx), opts_(&opts) {}
  CallArgs(CallOptions&&) = delete;
  CallArgs(Context&, CallOptions&&) = delete;
  CallArgs(const Context&, CallOptions&&) = delete;

  // The caller's context, or null for a background one.
  const Context* context() const { return ctx_; }
  // The caller's context when it was given as a non-const lvalue, else null.
  Context* mutable_context() const { return mutable_ctx_; }
  // The caller's options, or empty ones (the client's defaults).
  const CallOptions& Options() const;
  // A copy of the context (a background context when none was given).
  Context ContextCopy() const { return ctx_ ? *ctx_ : Context(); }

 private:
  const Context* ctx_ = nullptr;
  Context* mutable_ctx_ = nullptr;
  const CallOptions* opts_ = nullptr;
};

inline const CallOptions& CallArgs::Options() const {
  static const CallOptions* none = new CallOptions();  // never destroyed: usable at exit
  return opts_ ? *opts_ : *none;
}

struct ClientOptions {
  std::string content_type = "application/json";
  int retries = 5;
  Duration request_timeout = std::chrono::seconds(30);
  Duration connection_timeout = std::chrono::seconds(5);
  Duration dial_timeout = std::chrono::seconds(5);
  Duration stream_timeout{0};   // 0: no per-message timeout on streams
  std::size_t pool_size = 100;  // idle connections kept per address
  Duration pool_ttl = std::chrono::minutes(1);
  std::function<bool(const Error&, int attempt)> retry = DefaultRetry;
  std::function<Duration(int attempt)> backoff = DefaultBackoff;
  std::vector<CallWrapper> call_wrappers;            // first listed is outermost
  std::vector<ClientStreamWrapper> stream_wrappers;  // first listed is outermost
  // Every call goes to this "host:port" (go-micro's MICRO_PROXY with an address).
  std::string proxy;
  // Every call goes to a node of this service instead of the one it names, which still names
  // the request (Micro-Service): go-micro's MICRO_PROXY with a service name ("service" stands
  // for "go.micro.proxy"). Selection, marking and the breaker's feedback use this name. An
  // explicit CallOptions::address or `proxy` wins.
  std::string proxy_service;

  std::shared_ptr<Transport> transport;  // required
  std::shared_ptr<Selector> selector;    // required unless every call has an address / proxy
  std::shared_ptr<Broker> broker;        // for Publish; connected on first use
  asio::any_io_executor executor;        // I/O executor; empty: Runtime::Default()
};

// The client side of one stream. Blocking; not for I/O threads.
class ClientStream {
 public:
  virtual ~ClientStream() = default;
  virtual Context& context() = 0;
  virtual Status SendMsg(const google::protobuf::Message& msg) = 0;
  // False at the end of the stream (the server finished: EOS) or on failure; see status().
  virtual bool RecvMsg(google::protobuf::Message& msg) = 0;
  virtual Status status() const = 0;
  // Tells the server no more messages follow (sends EOS), keeping the stream open to receive.
  // go-micro servers treat it as the end of the stream, as their own clients' Close().
  virtual Status CloseSend() = 0;
  // Ends the stream: sends EOS if not sent yet, then closes the connection.
  virtual Status Close() = 0;

  // Raw bodies (codec::Frame: bytes already in the stream's content type, e.g. JSON), for
  // tools and proxies without generated types. RecvFrame: as RecvMsg, the payload undecoded.
  // One SendMsg/SendFrame and one RecvMsg/RecvFrame may run at the same time (two threads).
  // Streams that carry only messages keep these defaults: a 501 Error / false.
  virtual Status SendFrame(const codec::Frame& frame);
  virtual bool RecvFrame(codec::Frame& frame);
};

inline Status ClientStream::SendFrame(const codec::Frame&) {
  return Error{.id = error_ids::kClient,
               .code = 501,
               .detail = "this stream does not send raw frames",
               .status = "Not Implemented"};
}
inline bool ClientStream::RecvFrame(codec::Frame&) { return false; }

template <class Req, class Rsp>
class TypedClientStream {
 public:
  explicit TypedClientStream(std::unique_ptr<ClientStream> s) : s_(std::move(s)) {}
  Context& context() { return s_->context(); }
  Status Send(const Req& msg) { return s_->SendMsg(msg); }
  bool Recv(Rsp& msg) { return s_->RecvMsg(msg); }
  Status status() const { return s_->status(); }
  Status CloseSend() { return s_->CloseSend(); }
  Status Close() { return s_->Close(); }

 private:
  std::unique_ptr<ClientStream> s_;
};

class Client {
 public:
  virtual ~Client() = default;

  // Blocking call. rsp receives the decoded response.
  virtual Status Call(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
                      const CallOptions& opts = {}) = 0;
  // Coroutine call; ctx, req, rsp and opts must stay alive until it completes. opts has no
  // default: a defaulted aggregate argument inside a co_await expression is destroyed twice by
  // g++ 12. Pass a named CallOptions (an empty one for the defaults).
  virtual asio::awaitable<Status> AsyncCall(Context& ctx, const ClientRequest& req,
                                            codec::ReadBody rsp, const CallOptions& opts) = 0;
  // Opens a stream on a dedicated connection; req.body is the opening message (go-micro
  // servers discard it; generated code sends an empty placeholder). The opening is retried as
  // a call is (retries, retry predicate, backoff bounded by request_timeout, failed nodes
  // marked in the selector; go-micro does the same); nothing is retried once it is returned.
  // Stream wrappers (ClientStreamWrapper) run around each attempt.
  virtual Result<std::unique_ptr<ClientStream>> Stream(Context& ctx, const ClientRequest& req,
                                                       const CallOptions& opts = {}) = 0;
  // Publishes body to topic through the broker (go-micro's Publish): headers are ctx's
  // metadata plus Content-Type, Micro-Topic and a new Micro-Id (a UUID); the body is encoded
  // with the content type's codec. Does not wait for subscribers. 500 without a broker.
  virtual Status Publish(Context& ctx, std::string_view topic, codec::WriteBody body,
                         const MessageOptions& opts = {}) = 0;
  virtual const ClientOptions& Options() const = 0;
  virtual asio::any_io_executor executor() const = 0;
  virtual std::string String() const = 0;  // "mucp"
};

Result<std::shared_ptr<Client>> NewClient(ClientOptions options);

// A whole-client wrapper (go-micro's client.Wrapper, installed with ServiceOptions::wrap_client
// as go-micro's micro.WrapClient): takes a client and returns the one to use instead, usually a
// ForwardingClient that overrides a few methods. Runs once, when the service builds its client.
using ClientDecorator = std::function<std::shared_ptr<Client>(std::shared_ptr<Client>)>;

// A Client that hands every method to another (go-micro wrappers embed client.Client the same
// way): derive from it and override what the wrapper changes. Owns the inner client; as
// thread-safe as it is.
class ForwardingClient : public Client {
 public:
  explicit ForwardingClient(std::shared_ptr<Client> inner) : inner_(std::move(inner)) {}

  Status Call(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
              const CallOptions& opts = {}) override {
    return inner_->Call(ctx, req, rsp, opts);
  }
  asio::awaitable<Status> AsyncCall(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
                                    const CallOptions& opts) override {
    return inner_->AsyncCall(ctx, req, rsp, opts);
  }
  Result<std::unique_ptr<ClientStream>> Stream(Context& ctx, const ClientRequest& req,
                                               const CallOptions& opts = {}) override {
    return inner_->Stream(ctx, req, opts);
  }
  Status Publish(Context& ctx, std::string_view topic, codec::WriteBody body,
                 const MessageOptions& opts = {}) override {
    return inner_->Publish(ctx, topic, body, opts);
  }
  const ClientOptions& Options() const override { return inner_->Options(); }
  asio::any_io_executor executor() const override { return inner_->executor(); }
  std::string String() const override { return inner_->String(); }

  const std::shared_ptr<Client>& inner() const { return inner_; }

 private:
  std::shared_ptr<Client> inner_;
};

// --- typed helpers (what generated clients call) -------------------------------------------

template <class Rsp, class Req>
Result<Rsp> Call(Client& client, Context& ctx, std::string service, std::string endpoint,
                 const Req& req, const CallOptions& opts = {}) {
  Rsp rsp;
  ClientRequest r{std::move(service), std::move(endpoint), opts.content_type, &req};
  if (Status s = client.Call(ctx, r, &rsp, opts); !s) return std::move(s).error();
  return rsp;
}

// Publishes a protobuf message (or codec::Frame) to topic.
template <class Msg>
Status Publish(Client& client, Context& ctx, std::string_view topic, const Msg& msg,
               const MessageOptions& opts = {}) {
  return client.Publish(ctx, topic, &msg, opts);
}

// (No defaulted CallOptions here: g++ 12 destroys an aggregate temporary created inside a
// co_await expression twice, so `co_await AsyncCall(...)` must not build one. With options,
// pass a named CallOptions variable.)
template <class Rsp, class Req>
asio::awaitable<Result<Rsp>> AsyncCall(Client& client, Context ctx, std::string service,
                                       std::string endpoint, Req req, CallOptions opts) {
  Rsp rsp;
  ClientRequest r{std::move(service), std::move(endpoint), opts.content_type, &req};
  Status s = co_await client.AsyncCall(ctx, r, &rsp, opts);
  if (!s) co_return std::move(s).error();
  co_return rsp;
}

template <class Rsp, class Req>
asio::awaitable<Result<Rsp>> AsyncCall(Client& client, Context ctx, std::string service,
                                       std::string endpoint, Req req) {
  CallOptions opts;
  co_return co_await AsyncCall<Rsp>(client, std::move(ctx), std::move(service), std::move(endpoint),
                                    std::move(req), opts);
}

// Callback form: done runs on an I/O thread with the result.
template <class Rsp, class Req>
void CallWithCallback(Client& client, Context ctx, std::string service, std::string endpoint,
                      Req req, std::function<void(Result<Rsp>)> done, CallOptions opts = {});

template <class Req, class Rsp>
Result<TypedClientStream<Req, Rsp>> OpenStream(Client& client, Context& ctx, std::string service,
                                               std::string endpoint, const CallOptions& opts = {}) {
  Req placeholder;  // go-micro servers discard the opening message
  ClientRequest r{std::move(service), std::move(endpoint), opts.content_type, &placeholder};
  auto s = client.Stream(ctx, r, opts);
  if (!s) return std::move(s).error();
  return TypedClientStream<Req, Rsp>(std::move(*s));
}

}  // namespace micro

#include <micro/client_callback.h>  // CallWithCallback's definition (needs co_spawn)
