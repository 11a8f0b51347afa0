// The mucp client: node selection, pooled connections, codecs, retries and timeouts.
#include <algorithm>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include "client/client_stream.h"
#include "client/connection_pool.h"
#include "client/publish.h"
#include "client/request_header.h"
#include "micro/client.h"
#include "micro/plugin/io.h"
#include "micro/resilience.h"
#include "micro/runtime.h"
#include "micro/transport.h"

namespace micro {

bool DefaultRetry(const Error& error, int) {
  return error.code == 408 ||
         (error.id == error_ids::kClient && error.detail.rfind("connection error:", 0) == 0) ||
         resilience::IsShed(error);
}

namespace client_detail {

Error ClientError(int code, std::string detail) {
  return errors::New(error_ids::kClient, std::move(detail), code);
}

std::string Millis(Duration d) {
  return fmt::format("{}ms", std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// Which limit an attempt's budget came from (named in the 408; built only when it fires).
struct AttemptLimit {
  Duration connection_timeout;
  bool request_deadline = false;  // the call's deadline was nearer than the connection timeout
  std::string Name() const {
    return request_deadline ? "request deadline"
                            : "connection timeout " + Millis(connection_timeout);
  }
};

// Runs Send then Recv on sock within `timeout`; on expiry the socket is closed and the
// result is a 408 naming the limit.
asio::awaitable<Status> Exchange(std::shared_ptr<Socket> sock, const Message& out, Message& in,
                                 Duration timeout, AttemptLimit limit) {
  struct State {
    bool done = false;
    bool fired = false;
  };
  auto state = std::make_shared<State>();
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  timer.async_wait([sock, state](std::error_code ec) {
    if (!ec && !state->done) {
      state->fired = true;
      sock->Close();
    }
  });
  Status s = co_await sock->Send(out);
  const bool sent = s.ok();
  if (s) s = co_await sock->Recv(in);
  state->done = true;
  timer.cancel();
  if (!s && state->fired) {
    co_return ClientError(408, fmt::format("call timeout: {} exceeded", limit.Name()));
  }
  // A request that could not be written in full never reached a handler (the peer had closed
  // the connection, or reset it): as a refused dial, safe to retry on another node.
  if (!sent) co_return ClientError(500, "connection error: " + s.error().detail);
  co_return s;
}

}  // namespace client_detail

namespace {

// How many picks in one call an open breaker may refuse before the call ends with its 503.
constexpr int kMaxBreakerSkips = 16;

using client_detail::ClientError;
using client_detail::Millis;

// The codec for a node: nodes without `protocol` metadata are legacy go-micro servers that
// speak json-rpc / proto-rpc. The result views content_type or a literal.
std::string_view WireContentType(std::string_view content_type, const registry::Node& node) {
  if (node.metadata.count("protocol")) return content_type;
  const std::string normal = codec::NormalizeContentType(content_type);
  if (normal == "application/json") return "application/json-rpc";
  if (normal == "application/protobuf" || normal == "application/octet-stream") {
    return "application/proto-rpc";
  }
  return content_type;
}

class RpcClient final : public Client, public std::enable_shared_from_this<RpcClient> {
 public:
  explicit RpcClient(ClientOptions options)
      : options_(std::move(options)),
        proxy_(options_.proxy.empty() ? std::vector<std::string>{}
                                      : std::vector<std::string>{options_.proxy}),
        pool_(options_.pool_size, options_.pool_ttl) {
    if (!options_.executor) options_.executor = Runtime::Default().executor();
  }

  Status Call(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
              const CallOptions& opts) override {
    if (Runtime::InIoThread()) {
      return ClientError(500, "sync call from an I/O thread would block it: use AsyncCall");
    }
    return plugin::RunBlocking(options_.executor, AsyncCall(ctx, req, rsp, opts),
                               error_ids::kClient);
  }

  asio::awaitable<Status> AsyncCall(Context& ctx, const ClientRequest& req, codec::ReadBody rsp,
                                    const CallOptions& opts) override {
    const Duration request_timeout = opts.request_timeout.value_or(options_.request_timeout);
    Context call_ctx = ctx.Child(Clock::now() + request_timeout);
    const bool own_deadline = !ctx.deadline() || *call_ctx.deadline() < *ctx.deadline();
    auto timeout_error = [&] {
      return ClientError(408, own_deadline
                                  ? fmt::format("call timeout: request timeout {} exceeded",
                                                Millis(request_timeout))
                                  : "call timeout: context deadline exceeded");
    };
    if (call_ctx.Done())
      co_return call_ctx.cancelled() ? Status(ClientError(408, "call timeout: context canceled"))
                                     : Status(timeout_error());

    const std::string& target = SelectName(req.service);
    // A warm selector answers at once, without a coroutine frame for the lookup.
    std::optional<Result<selector::Next>> ready = ReadyNodes(target, opts);
    if (!ready) ready.emplace(co_await WaitForNodes(target, opts));
    Result<selector::Next>& next = *ready;
    if (!next) co_return std::move(next).error();

    // Two pointers: std::function keeps them inline, without an allocation per call. The
    // chain is used only inside this coroutine, which the caller keeps `this` alive for.
    CallFunc call = [this, &opts](Context& c, const registry::Node& node, const ClientRequest& r,
                                  codec::ReadBody out) { return CallNode(c, node, r, out, opts); };
    for (auto it = opts.call_wrappers.rbegin(); it != opts.call_wrappers.rend(); ++it)
      call = (*it)(call);
    for (auto it = options_.call_wrappers.rbegin(); it != options_.call_wrappers.rend(); ++it) {
      call = (*it)(call);
    }

    const int retries = opts.retries.value_or(options_.retries);
    const auto& retry = opts.retry ? opts.retry : options_.retry;
    const auto& backoff = opts.backoff ? opts.backoff : options_.backoff;
    Selector* const selector =
        opts.address.empty() && options_.proxy.empty() ? options_.selector.get() : nullptr;
    Status last;
    int skips = 0;  // picks refused by an open circuit breaker (nothing was sent)
    bool skipped = false;
    for (int attempt = 0; attempt <= retries; ++attempt) {
      if (attempt > 0 && !skipped) {
        const Duration wait = backoff ? backoff(attempt) : Duration::zero();
        if (wait > Duration::zero()) {
          // The call's deadline bounds the retries (go-micro's loop selects on ctx.Done()): a
          // backoff that would end past it ends the call now, naming the last failure.
          const auto left = call_ctx.remaining();
          if (left && *left <= wait) {
            Error late = timeout_error();
            if (!last.ok()) late.detail += "; last error: " + last.error().detail;
            co_return late;
          }
          asio::steady_timer timer(co_await asio::this_coro::executor, wait);
          co_await timer.async_wait(asio::use_awaitable);
        }
      }
      skipped = false;
      auto node = (*next)();
      if (!node)
        co_return ClientError(
            500, fmt::format("error getting next {} node: {}", req.service, node.error().detail));
      const registry::Node& picked = **node;  // lives in the snapshot `next` holds
      const TimePoint started = Clock::now();
      if (selector) selector->Begin(target, picked);
      last = co_await call(call_ctx, picked, req, rsp);
      if (selector) {
        selector->End(target, picked, last, Clock::now() - started);
        selector->Mark(target, picked, last);
      }
      if (last) co_return last;
      if (call_ctx.Done()) {
        if (ctx.cancelled()) co_return ClientError(408, "call timeout: context canceled");
        if (last.error().code == 408) co_return timeout_error();
        Error late = timeout_error();  // the deadline passed after a failure of another kind
        late.detail += "; last error: " + last.error().detail;
        co_return late;
      }
      // An open breaker sent nothing: pick another node at once, without using up a retry.
      // When every node's breaker is open the picks keep being refused, and the call ends with
      // the breaker's 503.
      if (resilience::IsBreakerOpen(last.error()) && skips < kMaxBreakerSkips) {
        ++skips;
        --attempt;
        skipped = true;
        continue;
      }
      if (!retry || !retry(last.error(), attempt)) break;
    }
    co_return last;
  }

  // Opens a stream as Call makes a call (go-micro's stream creation is retried like Call): the
  // same retries, retry predicate and backoff, each failed opening marked in the selector, the
  // whole creation bounded by the request timeout. Only the creation: once the stream is handed
  // to the caller nothing is retried.
  Result<std::unique_ptr<ClientStream>> Stream(Context& ctx, const ClientRequest& req,
                                               const CallOptions& opts) override {
    if (Runtime::InIoThread()) {
      return ClientError(500, "sync stream from an I/O thread would block it");
    }
    const std::string& target = SelectName(req.service);
    auto next = Nodes(target, opts);
    if (!next) return std::move(next).error();

    ClientStreamFunc open = [this, &opts](Context& c, const registry::Node& node,
                                          const ClientRequest& r) {
      return OpenStreamOn(c, node, r, opts);
    };
    for (auto it = opts.stream_wrappers.rbegin(); it != opts.stream_wrappers.rend(); ++it) {
      open = (*it)(open);
    }
    for (auto it = options_.stream_wrappers.rbegin(); it != options_.stream_wrappers.rend(); ++it) {
      open = (*it)(open);
    }

    const Duration request_timeout = opts.request_timeout.value_or(options_.request_timeout);
    Context open_ctx = ctx.Child(Clock::now() + request_timeout);
    const int retries = opts.retries.value_or(options_.retries);
    const auto& retry = opts.retry ? opts.retry : options_.retry;
    const auto& backoff = opts.backoff ? opts.backoff : options_.backoff;
    Selector* const selector =
        opts.address.empty() && options_.proxy.empty() ? options_.selector.get() : nullptr;
    Error last;
    for (int attempt = 0; attempt <= retries; ++attempt) {
      if (attempt > 0) {
        const Duration wait = backoff ? backoff(attempt) : Duration::zero();
        if (wait > Duration::zero()) {
          const auto left = open_ctx.remaining();
          if (left && *left <= wait) {
            return ClientError(408,
                               "stream timeout: deadline exceeded; last error: " + last.detail);
          }
          std::this_thread::sleep_for(wait);
        }
      }
      if (ctx.cancelled()) return ClientError(408, "stream timeout: context canceled");
      auto node = (*next)();
      if (!node)
        return ClientError(
            500, fmt::format("error getting next {} node: {}", req.service, node.error().detail));
      auto stream = open(ctx, **node, req);
      if (selector) selector->Mark(target, **node, stream ? Status{} : Status(stream.error()));
      if (stream) return stream;
      last = std::move(stream).error();
      if (!retry || !retry(last, attempt)) break;
    }
    return last;
  }

  Status Publish(Context& ctx, std::string_view topic, codec::WriteBody body,
                 const MessageOptions& opts) override {
    return client_detail::Publish(options_, ctx, topic, body, opts);
  }
  const ClientOptions& Options() const override { return options_; }
  asio::any_io_executor executor() const override { return options_.executor; }
  std::string String() const override { return "mucp"; }

 private:
  // The service whose nodes a call goes to: the proxy service when there is one.
  const std::string& SelectName(const std::string& service) const {
    return options_.proxy_service.empty() ? service : options_.proxy_service;
  }

  const std::string& ContentType(const ClientRequest& req, const CallOptions& opts) const {
    if (!req.content_type.empty()) return req.content_type;
    if (!opts.content_type.empty()) return opts.content_type;
    return options_.content_type;
  }

  // Explicit addresses (or the proxy) as synthetic mucp nodes, taken round robin from a start
  // at unix seconds modulo their count (as go-micro).
  struct AddressNodes {
    std::vector<registry::Node> nodes;
    std::atomic<size_t> next{static_cast<size_t>(std::time(nullptr))};
  };

  // The nodes for these addresses; kept while calls keep naming the same ones (the common
  // case: no per-call allocation of the list).
  std::shared_ptr<AddressNodes> NodesFor(const std::vector<std::string>& addresses) {
    std::lock_guard lock(address_mu_);
    const auto same = [](const registry::Node& n, const std::string& a) { return n.address == a; };
    if (!address_nodes_ || !std::equal(address_nodes_->nodes.begin(), address_nodes_->nodes.end(),
                                       addresses.begin(), addresses.end(), same)) {
      auto list = std::make_shared<AddressNodes>();
      for (const auto& a : addresses) {
        list->nodes.push_back({.id = a, .address = a, .metadata = {{"protocol", "mucp"}}});
      }
      address_nodes_ = std::move(list);
    }
    return address_nodes_;
  }

  // Explicit addresses / the proxy (as synthetic mucp nodes), if the call has any.
  std::optional<selector::Next> AddressNext(const CallOptions& opts) {
    const std::vector<std::string>& addrs = opts.address.empty() ? proxy_ : opts.address;
    if (addrs.empty()) return std::nullopt;
    return selector::Next([list = NodesFor(addrs)]() -> Result<const registry::Node*> {
      return &list->nodes[list->next++ % list->nodes.size()];
    });
  }

  static Result<selector::Next> SelectError(const std::string& service, Error error) {
    if (error.code == 404) return ClientError(500, fmt::format("service {}: not found", service));
    return ClientError(500, fmt::format("error selecting {} node: {}", service, error.detail));
  }

  // The nodes to try: explicit addresses / the proxy, or the selector (which may wait for a
  // registry lookup: for plain threads only).
  Result<selector::Next> Nodes(const std::string& service, const CallOptions& opts) {
    if (auto fixed = AddressNext(opts)) return std::move(*fixed);
    if (!options_.selector) {
      return ClientError(500, fmt::format("error selecting {} node: no selector", service));
    }
    auto next = options_.selector->Select(service, opts.select);
    if (!next) return SelectError(service, std::move(next).error());
    return next;
  }

  // The nodes when they are known without waiting: explicit addresses, the selector's warm
  // cache, or an error. nullopt when the selector must look the service up (WaitForNodes).
  std::optional<Result<selector::Next>> ReadyNodes(const std::string& service,
                                                   const CallOptions& opts) {
    if (auto fixed = AddressNext(opts)) return Result<selector::Next>(std::move(*fixed));
    if (!options_.selector) {
      return ClientError(500, fmt::format("error selecting {} node: no selector", service));
    }
    auto ready = options_.selector->TrySelect(service, opts.select);
    if (ready && !*ready) return SelectError(service, std::move(*ready).error());
    return ready;
  }

  // After ReadyNodes missed: the lookup runs on a cache thread and suspends the call instead of
  // blocking this I/O thread.
  asio::awaitable<Result<selector::Next>> WaitForNodes(const std::string& service,
                                                       const CallOptions& opts) {
    auto next = co_await AwaitSelect(options_.selector, service, opts.select);
    if (!next) co_return SelectError(service, std::move(next).error());
    co_return std::move(next);
  }

  // Selector::SelectAsync as an awaitable: the answer is posted to the coroutine's executor
  // (never run inline inside the initiation).
  static asio::awaitable<Result<selector::Next>> AwaitSelect(std::shared_ptr<Selector> sel,
                                                             std::string service,
                                                             SelectOptions select) {
    auto initiate = [](auto handler, std::shared_ptr<Selector> to, std::string name,
                       SelectOptions with) {
      using Handler = decltype(handler);
      auto shared = std::make_shared<Handler>(std::move(handler));
      to->SelectAsync(name, with, [shared](Result<selector::Next> answer) {
        auto ex = asio::get_associated_executor(*shared);
        asio::post(
            ex, [shared, answer = std::move(answer)]() mutable { (*shared)(std::move(answer)); });
      });
    };
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable),
                                            void(Result<selector::Next>)>(
        initiate, asio::use_awaitable, std::move(sel), std::move(service), std::move(select));
  }

  asio::awaitable<Status> CallNode(Context& ctx, const registry::Node& node,
                                   const ClientRequest& req, codec::ReadBody rsp,
                                   const CallOptions& opts) {
    const std::string_view ct = WireContentType(ContentType(req, opts), node);
    auto codec = codec::Lookup(ct);
    if (!codec) co_return std::move(codec).error();
    const Duration conn_timeout = opts.connection_timeout.value_or(options_.connection_timeout);

    // The server's deadline for the handler: this attempt's budget (below), so that a handler
    // watching its context gives up, and frees its server slot, when the caller does.
    Duration header_timeout = conn_timeout;
    if (auto left = ctx.remaining(); left && *left < header_timeout) {
      header_timeout = std::max(*left, Duration(std::chrono::milliseconds(1)));
    }
    const std::string timeout = std::to_string(std::chrono::nanoseconds(header_timeout).count());
    codec::Message head;
    head.type = codec::MessageType::kRequest;
    head.id = std::to_string(seq_++);
    head.target = req.service;
    head.method = head.endpoint = req.endpoint;
    Message out;
    if (Status s = (*codec)->Write(head, req.body, out.body); !s) {
      co_return errors::InternalServerError(error_ids::kClientCodec, s.error().detail);
    }
    client_detail::CallFields fields;
    fields.content_type = ct;
    fields.id = head.id;
    fields.service = req.service;
    fields.endpoint = req.endpoint;
    fields.timeout = timeout;
    fields.conn_close = opts.conn_close;
    client_detail::BuildRequestHeader(out.header, ctx.metadata(), fields, head.header);

    // A pooled connection, or a new one; best one bound to the strand this call runs on.
    const asio::any_io_executor here = co_await asio::this_coro::executor;
    auto entry = pool_.GetEntry(node.address, here);
    if (!entry.sock) {
      const Duration dial = opts.dial_timeout.value_or(options_.dial_timeout);
      // Named, not a braced temporary: g++ 12 destroys aggregate temporaries inside a
      // co_await expression twice.
      DialOptions dial_options;
      dial_options.timeout = dial;
      if (auto left = ctx.remaining(); left && *left < dial) {
        dial_options.timeout = std::max(*left, Duration(std::chrono::milliseconds(1)));
      }
      dial_options.executor = SocketExecutor(here);
      auto sock = co_await options_.transport->Dial(node.address, dial_options);
      if (!sock) co_return ClientError(500, "connection error: " + sock.error().detail);
      entry = {*sock, Clock::now()};
    }

    // The attempt's budget: the connection timeout, cut short by the call's deadline.
    Duration budget = conn_timeout;
    client_detail::AttemptLimit limit{.connection_timeout = conn_timeout};
    if (auto left = ctx.remaining(); left && *left < budget) {
      budget = *left;
      limit.request_deadline = true;
    }
    const auto cancel_id = ctx.OnCancel([sock = entry.sock] { sock->Close(); });
    Message in;
    Status s;
    if (entry.sock->executor() == here ||
        plugin::OnSameSingleThread(here, entry.sock->executor())) {
      // Nothing else can run on the socket's strand meanwhile: no hop needed.
      s = co_await client_detail::Exchange(entry.sock, out, in, budget, limit);
    } else {
      s = co_await asio::co_spawn(entry.sock->executor(),
                                  client_detail::Exchange(entry.sock, out, in, budget, limit),
                                  asio::use_awaitable);
    }
    ctx.RemoveOnCancel(cancel_id);
    if (!s) {
      entry.sock->Close();
      if (s.error().code == 408 || s.error().id == error_ids::kClient) co_return s;
      // The transport knows the request reached no listener (a 503 from Recv: NATS "no
      // responders", e.g. while a server re-subscribes after a NATS failover): nothing ran, so
      // it is retried as a refused dial is.
      if (s.error().code == 503)
        co_return ClientError(503, "connection error: " + s.error().detail);
      // Sent, so not retried; go-micro's id for a failed exchange.
      co_return errors::InternalServerError(error_ids::kClientTransport,
                                            "transport error: " + s.error().detail);
    }
    const bool reusable =
        !opts.conn_close &&
        !EqualsIgnoreCase(GetHeader(in.header, "Connection").value_or(""), "close");
    if (reusable) {
      pool_.Put(node.address, entry.sock, entry.created);
    } else {
      entry.sock->Close();
    }
    co_return DecodeResponse(**codec, in, rsp);
  }

  // The strand a new connection is bound to: the calling coroutine's own strand when it is one
  // over the client's io_context (a gateway connection, a server handler), so that this call and
  // later ones made from the same strand use the socket without a hop; otherwise a new strand.
  // A caller on one of our Runtime's loops dials on its own strand (the connection then stays
  // on the caller's thread); any other caller's connections are spread over the loops.
  asio::any_io_executor SocketExecutor(const asio::any_io_executor& here) const {
    using IoEx = asio::io_context::executor_type;
    using IoStrand = asio::strand<IoEx>;
    if (const auto* strand = here.target<IoStrand>();
        strand && plugin::SameRuntime(strand->get_inner_executor(), options_.executor)) {
      return here;
    }
    // A loop's own executor (MakeStrand on a one-thread loop) is as good as a strand.
    if (const auto* io = here.target<IoEx>();
        io && plugin::SameRuntime(here, options_.executor) &&
        asio::has_service<plugin::OneThreadMark>(io->context())) {
      return here;
    }
    return plugin::MakeStrand(plugin::Spread(options_.executor));
  }

  // Reads the answer; in.header is moved into the codec's message (not copied).
  static Status DecodeResponse(const codec::Codec& codec, Message& in, codec::ReadBody rsp) {
    if (auto err = GetHeader(in.header, "Micro-Error"); err && !err->empty()) {
      return Error::Parse(*err);
    }
    if (EqualsIgnoreCase(GetHeader(in.header, "Content-Type").value_or(""), "text/plain")) {
      return ClientError(500, in.body);  // go-micro's answer to an unsupported Content-Type
    }
    codec::Message head;
    head.type = codec::MessageType::kResponse;
    head.header = std::move(in.header);
    std::string_view payload;
    Status s = codec.ReadHeader(in.body, head, payload);
    if (s && !head.error.empty()) return Error::Parse(head.error);
    if (s) s = codec.Read(payload, rsp);
    if (!s) return errors::InternalServerError(error_ids::kClientCodec, s.error().detail);
    return {};
  }

  // One attempt at opening a stream on node: a dedicated connection, then the opening message.
  Result<std::unique_ptr<ClientStream>> OpenStreamOn(Context& ctx, const registry::Node& node,
                                                     const ClientRequest& req,
                                                     const CallOptions& opts) {
    const std::string_view ct = WireContentType(ContentType(req, opts), node);
    auto codec = codec::Lookup(ct);
    if (!codec) return std::move(codec).error();
    DialOptions dial{.timeout = opts.dial_timeout.value_or(options_.dial_timeout),
                     .stream = true,
                     .executor = plugin::MakeStrand(plugin::Spread(options_.executor))};
    if (auto left = ctx.remaining(); left && *left < dial.timeout) {
      dial.timeout = std::max(*left, Duration(std::chrono::milliseconds(1)));
    }
    auto sock = options_.transport->DialSync(node.address, dial);
    if (!sock) return ClientError(500, "connection error: " + sock.error().detail);
    client_detail::StreamSetup setup{
        .ctx = ctx.Child(),
        .sock = *sock,
        .codec = *codec,
        .content_type = std::string(ct),
        .service = req.service,
        .endpoint = req.endpoint,
        .id = std::to_string(seq_++),
        .timeout = opts.stream_timeout.value_or(options_.stream_timeout)};
    auto stream = client_detail::NewClientStream(std::move(setup));
    if (Status s = stream->SendOpening(req.body); !s) return std::move(s).error();
    return std::unique_ptr<ClientStream>(std::move(stream));
  }

  ClientOptions options_;
  const std::vector<std::string> proxy_;  // options_.proxy as a list, or empty
  client_detail::ConnectionPool pool_;
  std::atomic<uint64_t> seq_{0};
  std::mutex address_mu_;
  std::shared_ptr<AddressNodes> address_nodes_;
};

}  // namespace

Result<std::shared_ptr<Client>> NewClient(ClientOptions options) {
  if (!options.transport) return errors::BadRequest(error_ids::kClient, "a transport is required");
  return std::shared_ptr<Client>(std::make_shared<RpcClient>(std::move(options)));
}

}  // namespace micro
