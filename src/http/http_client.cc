// micro::http::Client: HTTP/1.1 requests over asio with a keep-alive pool per address. The
// response framing is the transport's llhttp-based HttpParser.
//
// Each call runs as one coroutine on its own strand of the client's executor; the connection
// it uses is taken out of the pool for the call, so a socket is only touched by that strand.
// Timeouts and context cancellation reach the socket through that strand too.
#include "micro/http_client.h"

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "micro/errors.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "transport/http_wire.h"
#include "transport/runtime.h"
#include "transport/tls.h"
#include "transport/watchdog.h"
#include "util/ascii.h"

namespace micro::http {
namespace {

using asio::ip::tcp;
using plugin::IoThread;
using transport_detail::Watchdog;
using SslStream = asio::ssl::stream<tcp::socket>;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBufferSize = 16 * 1024;
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
// An idle connection older than this is not reused (Go's default IdleConnTimeout).
constexpr Duration kMaxIdle = std::chrono::seconds(90);

Error IoFailure(std::string_view what, const std::error_code& ec) {
  return errors::InternalServerError(std::string(kClientErrorId), "{}: {}", what, ec.message());
}
Error Failure(std::string detail) {
  return errors::InternalServerError(std::string(kClientErrorId), std::move(detail));
}
Error TimeoutFailure(std::string_view which) {
  return errors::Timeout(std::string(kClientErrorId), std::string(which));
}
Error CancelledFailure() {
  return errors::New(std::string(kClientErrorId), "context canceled", 499);
}

bool IsEof(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

// One TCP or TLS connection with its response parser and read buffer.
class Conn {
 public:
  Conn(const asio::any_io_executor& ex, std::shared_ptr<asio::ssl::context> tls,
       std::size_t max_body)
      : tls_ctx_(std::move(tls)), parser_(HttpParser::Kind::kResponse, kMaxHeaderBytes, max_body) {
    if (tls_ctx_) {
      ssl_ = std::make_unique<SslStream>(ex, *tls_ctx_);
    } else {
      plain_.emplace(ex);
    }
  }

  tcp::socket& lowest() { return ssl_ ? ssl_->next_layer() : *plain_; }
  SslStream* ssl() { return ssl_.get(); }
  HttpParser& parser() { return parser_; }

  asio::awaitable<std::tuple<std::error_code, std::size_t>> ReadSome() {
    if (!rbuf_) rbuf_ = std::make_unique<char[]>(kReadBufferSize);
    auto buf = asio::buffer(rbuf_.get(), kReadBufferSize);
    if (ssl_) co_return co_await ssl_->async_read_some(buf, kNoThrow);
    co_return co_await plain_->async_read_some(buf, kNoThrow);
  }
  const char* data() const { return rbuf_.get(); }

  asio::awaitable<std::error_code> Write(const std::string& head, const std::string& body) {
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(body)};
    if (ssl_) {
      auto [ec, n] = co_await asio::async_write(*ssl_, bufs, kNoThrow);
      co_return ec;
    }
    auto [ec, n] = co_await asio::async_write(*plain_, bufs, kNoThrow);
    co_return ec;
  }

  void CancelIo() {
    std::error_code ignored;
    lowest().cancel(ignored);
  }
  void Close() {
    std::error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
  }

  TimePoint idle_since{};

 private:
  std::shared_ptr<asio::ssl::context> tls_ctx_;  // outlives ssl_
  std::unique_ptr<SslStream> ssl_;
  std::optional<tcp::socket> plain_;
  HttpParser parser_;
  std::unique_ptr<char[]> rbuf_;
};

// The state of one call, shared with its watchdog and the context's cancel callback. Touched
// only on the call's strand.
struct Call : std::enable_shared_from_this<Call> {
  Call(asio::any_io_executor s, Context c)
      : strand(std::move(s)), ctx(std::move(c)), dog(strand, [this] { Expire(); }) {}

  void Expire() {
    expired = phase;
    if (conn) conn->CancelIo();
  }
  // Arms the watchdog for a phase ending at deadline (or the context's, when earlier).
  void Arm(std::optional<TimePoint> deadline, const char* name) {
    const auto ctx_deadline = ctx.deadline();
    if (ctx_deadline && (!deadline || *ctx_deadline < *deadline)) {
      deadline = ctx_deadline;
      name = "context deadline exceeded";
    }
    phase = name;
    if (deadline) {
      dog.ArmAt(*deadline);
    } else {
      dog.Disarm();
    }
  }
  // The error for an interrupted operation: timeout, cancellation, else the I/O error.
  std::optional<Error> Interrupted() const {
    if (cancelled) return CancelledFailure();
    if (expired) return TimeoutFailure(expired);
    return std::nullopt;
  }

  asio::any_io_executor strand;  // the strand the call's coroutine runs on
  Context ctx;
  Watchdog dog;
  const char* phase = "request timeout";
  const char* expired = nullptr;
  bool cancelled = false;
  bool done = false;
  Conn* conn = nullptr;
};

// What one exchange on one connection gave.
struct Exchange {
  Status status;
  Response response;
  bool stale = false;     // failed before any response byte on a reused connection
  bool reusable = false;  // the connection may go back to the pool
};

struct StreamSinks {
  std::function<bool(const Response&)>* on_head;
  std::function<bool(std::string_view)>* on_data;
};

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  ClientOptions options;
  std::shared_ptr<IoThread> io;  // null when the user gave an executor
  asio::any_io_executor executor;
  std::mutex mu;
  std::map<std::string, std::deque<std::unique_ptr<Conn>>> idle;
  std::shared_ptr<asio::ssl::context> tls_ctx;

  std::unique_ptr<Conn> TakeIdle(const std::string& address) {
    std::lock_guard lock(mu);
    auto it = idle.find(address);
    if (it == idle.end()) return nullptr;
    auto& q = it->second;
    while (!q.empty()) {
      auto conn = std::move(q.back());  // most recently used first
      q.pop_back();
      if (Clock::now() - conn->idle_since < kMaxIdle) return conn;
      conn->Close();
    }
    return nullptr;
  }

  void PutIdle(const std::string& address, std::unique_ptr<Conn> conn) {
    conn->idle_since = Clock::now();
    std::lock_guard lock(mu);
    auto& q = idle[address];
    q.push_back(std::move(conn));
    while (q.size() > options.max_idle_per_address) {
      q.front()->Close();
      q.pop_front();
    }
  }

  Result<std::shared_ptr<asio::ssl::context>> TlsContext() {
    std::lock_guard lock(mu);
    if (!tls_ctx) {
      auto ctx = transport_detail::MakeClientContext(options.tls, options.tls.insecure_skip_verify);
      if (!ctx) return std::move(ctx).error();
      tls_ctx = std::move(*ctx);
    }
    return tls_ctx;
  }

  asio::awaitable<Result<std::unique_ptr<Conn>>> Dial(Call& call, const std::string& address,
                                                      std::optional<TimePoint> request_deadline) {
    auto hp = plugin::ParseHostPort(address);
    if (!hp) co_return std::move(hp).error();
    if (hp->min_port != hp->max_port || hp->min_port == 0) {
      co_return errors::BadRequest(std::string(kClientErrorId), "bad address " + address);
    }
    std::shared_ptr<asio::ssl::context> tls;
    if (options.secure) {
      auto ctx = TlsContext();
      if (!ctx) co_return std::move(ctx).error();
      tls = std::move(*ctx);
    }
    auto conn = std::make_unique<Conn>(executor, tls, options.max_body_bytes);
    std::optional<TimePoint> deadline;
    if (options.connect_timeout > Duration::zero()) {
      deadline = Clock::now() + options.connect_timeout;
    }
    const char* name = "connect timeout";
    if (request_deadline && (!deadline || *request_deadline < *deadline)) {
      deadline = request_deadline;
      name = "request timeout";
    }
    call.conn = conn.get();
    call.Arm(deadline, name);
    const std::string host = hp->host.empty() ? "127.0.0.1" : hp->host;
    std::vector<tcp::endpoint> endpoints;
    std::error_code not_ip;
    auto ip = asio::ip::make_address(host, not_ip);
    if (!not_ip) {
      endpoints.emplace_back(ip, hp->min_port);
    } else {
      tcp::resolver resolver(call.strand);
      const std::string port = std::to_string(hp->min_port);
      auto [rec, results] = co_await resolver.async_resolve(host, port, kNoThrow);
      if (rec) co_return IoFailure("resolving " + host, rec);
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    if (auto e = call.Interrupted()) co_return *e;
    auto [cec, ep] = co_await asio::async_connect(conn->lowest(), endpoints, kNoThrow);
    if (auto e = call.Interrupted()) co_return *e;
    if (cec) co_return IoFailure("dial " + address, cec);
    std::error_code ignored;
    conn->lowest().set_option(tcp::no_delay(true), ignored);
    if (auto* ssl = conn->ssl()) {
      if (not_ip) SSL_set_tlsext_host_name(ssl->native_handle(), host.c_str());  // SNI for names
      if (!options.tls.insecure_skip_verify) {
        ssl->set_verify_callback(asio::ssl::host_name_verification(host));
      }
      if (call.phase == std::string_view("connect timeout")) call.phase = "TLS handshake timeout";
      auto [hec] = co_await ssl->async_handshake(asio::ssl::stream_base::client, kNoThrow);
      if (auto e = call.Interrupted()) co_return *e;
      if (hec) {
        co_return Failure("TLS handshake with " + address + " failed: " + hec.message());
      }
    }
    co_return conn;
  }

  // Writes the request and reads the response (or streams its body) on conn.
  asio::awaitable<Exchange> Run(Call& call, Conn& conn, bool reused, const std::string& head,
                                const std::string& body, std::optional<TimePoint> deadline,
                                const StreamSinks* sinks) {
    Exchange x;
    call.conn = &conn;
    call.Arm(deadline, "request timeout");
    auto fail = [&](Error e) {
      x.status = std::move(e);
      return std::move(x);
    };
    if (auto wec = co_await conn.Write(head, body)) {
      if (auto e = call.Interrupted()) co_return fail(*e);
      x.stale = reused;
      co_return fail(IoFailure("write", wec));
    }
    auto& parser = conn.parser();
    // The sink below refers to this frame: never leave it on a pooled connection's parser.
    struct SinkReset {
      HttpParser& p;
      ~SinkReset() { p.SetBodySink(nullptr); }
    } sink_reset{parser};
    Message msg;
    bool head_done = false;
    bool stop = false;
    // Streaming: the head goes out once the header block is complete, before any body byte.
    auto deliver_head = [&] {
      if (head_done || !parser.headers_complete()) return;
      head_done = true;
      x.response.status = parser.status_code();
      x.response.reason = parser.reason();
      x.response.header = msg.header;
      if (!(*sinks->on_head)(x.response)) stop = true;
      call.Arm(std::nullopt, "");  // the request timeout covers the head only
    };
    if (sinks) {
      parser.SetBodySink([&](const char* data, std::size_t size) {
        deliver_head();
        if (!stop && !(*sinks->on_data)(std::string_view(data, size))) stop = true;
      });
    } else {
      parser.SetBodySink(nullptr);
    }
    parser.Start(&msg);
    for (;;) {
      auto [ec, n] = co_await conn.ReadSome();
      if (auto e = call.Interrupted()) co_return fail(*e);
      ParseStatus st = ParseStatus::kNeedMore;
      std::size_t used = 0;
      if (ec) {
        if (!IsEof(ec)) co_return fail(IoFailure("read", ec));
        if (!parser.started()) {
          x.stale = reused;
          co_return fail(Failure("connection closed before the response"));
        }
        st = parser.Finish();
        if (st == ParseStatus::kNeedMore) st = ParseStatus::kError;
      } else {
        st = parser.Parse(conn.data(), n, &used);
      }
      if (sinks) deliver_head();
      if (stop) co_return std::move(x);  // the caller ended the stream: ok, not reusable
      if (st == ParseStatus::kError) {
        if (parser.error_status() == 413) {
          co_return fail(errors::New(
              std::string(kClientErrorId),
              "response body larger than " + std::to_string(options.max_body_bytes) + " bytes",
              413));
        }
        co_return fail(Failure("malformed response: " + parser.error_reason()));
      }
      if (st == ParseStatus::kComplete) break;
    }
    call.Arm(std::nullopt, "");
    if (!sinks) {
      x.response.status = parser.status_code();
      x.response.reason = parser.reason();
      x.response.header = std::move(msg.header);
      x.response.body = std::move(msg.body);
    }
    // Bytes after the response (we never pipeline) or Connection: close: not reusable.
    x.reusable = !parser.wants_close();
    co_return std::move(x);
  }

  // One call: an idle connection if there is one (retried once on a fresh one when it turns
  // out stale), else a new one.
  asio::awaitable<Result<Response>> Do(std::string address, Request request, Context ctx,
                                       const StreamSinks* sinks) {
    if (!util::IsToken(request.method) ||
        request.target.find_first_of(" \r\n") != std::string::npos) {
      co_return errors::BadRequest(std::string(kClientErrorId), "bad method or target");
    }
    // The watchdog and cancellation run on the coroutine's own strand (see Send).
    auto call = std::make_shared<Call>(co_await asio::this_coro::executor, ctx);
    call->dog.SetOwner(call->weak_from_this());
    const uint64_t cancel_id = ctx.OnCancel([weak = call->weak_from_this(), s = call->strand] {
      asio::post(s, [weak] {
        auto c = weak.lock();
        if (!c || c->done) return;
        c->cancelled = true;
        if (c->conn) c->conn->CancelIo();
      });
    });
    Result<Response> result = co_await DoWithCall(*call, address, request, sinks);
    call->done = true;
    call->conn = nullptr;
    call->dog.Cancel();
    ctx.RemoveOnCancel(cancel_id);
    co_return result;
  }

  asio::awaitable<Result<Response>> DoWithCall(Call& call, const std::string& address,
                                               const Request& request, const StreamSinks* sinks) {
    if (call.ctx.cancelled()) co_return CancelledFailure();
    if (call.ctx.Done()) co_return TimeoutFailure("context deadline exceeded");
    std::optional<TimePoint> deadline;
    if (options.request_timeout > Duration::zero()) {
      deadline = Clock::now() + options.request_timeout;
    }
    std::string head;
    AppendClientRequestHead(head, request.method, request.target, address, request.header,
                            request.body.size());
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Conn> conn = attempt == 0 ? TakeIdle(address) : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        auto dialled = co_await Dial(call, address, deadline);
        call.conn = nullptr;
        if (!dialled) co_return std::move(dialled).error();
        conn = std::move(*dialled);
      }
      Exchange x = co_await Run(call, *conn, reused, head, request.body, deadline, sinks);
      call.conn = nullptr;
      if (x.status.ok() && x.reusable) {
        PutIdle(address, std::move(conn));
      } else {
        conn->Close();
      }
      if (x.status.ok()) co_return std::move(x.response);
      if (x.stale) continue;
      co_return std::move(x.status).error();
    }
    co_return Failure("unreachable");
  }
};

Client::Client(ClientOptions options) : options_(std::move(options)) {
  impl_ = std::make_shared<Impl>();
  impl_->options = options_;
  if (options_.executor) {
    impl_->executor = options_.executor;
  } else {
    impl_->io = IoThread::Create();
    impl_->executor = impl_->io->executor();
  }
}

Client::~Client() {
  std::lock_guard lock(impl_->mu);
  for (auto& [addr, q] : impl_->idle) {
    for (auto& c : q) c->Close();
  }
  impl_->idle.clear();
}

asio::awaitable<Result<Response>> Client::Send(std::string address, Request request, Context ctx) {
  auto impl = impl_;
  auto strand = plugin::MakeStrand(impl->executor);
  // (Named, not a temporary inside co_await: see the g++ 12 note in docs/building.md.)
  auto call = impl->Do(std::move(address), std::move(request), std::move(ctx), nullptr);
  co_return co_await asio::co_spawn(strand, std::move(call), asio::use_awaitable);
}

Result<Response> Client::SendSync(std::string address, Request request, Context ctx) {
  if (plugin::RunningInThisThread(impl_->executor)) {
    return Failure("SendSync called on the client's own executor thread");
  }
  return plugin::RunBlocking(impl_->executor,
                             Send(std::move(address), std::move(request), std::move(ctx)),
                             kClientErrorId);
}

asio::awaitable<Status> Client::Stream(std::string address, Request request, Context ctx,
                                       std::function<bool(const Response& head)> on_head,
                                       std::function<bool(std::string_view data)> on_data) {
  auto impl = impl_;
  if (!on_head) on_head = [](const Response&) { return true; };
  if (!on_data) on_data = [](std::string_view) { return true; };
  StreamSinks sinks{&on_head, &on_data};
  auto strand = plugin::MakeStrand(impl->executor);
  auto call = impl->Do(std::move(address), std::move(request), std::move(ctx), &sinks);
  Result<Response> r = co_await asio::co_spawn(strand, std::move(call), asio::use_awaitable);
  if (!r) co_return std::move(r).error();
  co_return Status{};
}

}  // namespace micro::http
