// go-micro's HTTP transport over asio: each message is one HTTP/1.1 request (client to
// server) or one `200 OK` response (server to client) on a kept-alive TCP (or TLS) connection.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio/bind_allocator.hpp>
#include <asio/connect.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cerrno>
#include <future>
#include <mutex>
#include <type_traits>

#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "micro/transport.h"
#include "transport/accept_thread.h"
#include "transport/handoff_pool.h"
#include "transport/http_wire.h"
#include "transport/runtime.h"
#include "transport/tls.h"
#include "transport/watchdog.h"
#include "transport/write_now.h"

namespace micro {
namespace {

using namespace transport_detail;  // NOLINT(google-build-using-namespace)
using asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBufferSize = 16 * 1024;
constexpr Duration kRejectWriteTimeout = std::chrono::seconds(1);
constexpr std::size_t kLingerBytes = 256 * 1024;
// A body with at least this many bytes still to come bypasses the read buffer.
constexpr std::size_t kDirectBodyBytes = 8 * 1024;
constexpr std::size_t kNotDirect = static_cast<std::size_t>(-1);

// What every socket and listener of one transport shares (and keeps alive).
struct HttpShared {
  TransportOptions options;
  std::shared_ptr<IoThread> io;  // null when the user gave an executor
  asio::any_io_executor executor;
};

template <class Stream>
class HttpSocket final : public Socket, public std::enable_shared_from_this<HttpSocket<Stream>> {
 public:
  template <class... StreamArgs>
  HttpSocket(std::shared_ptr<HttpShared> shared, std::shared_ptr<asio::ssl::context> tls,
             bool server, StreamArgs&&... args)
      : shared_(std::move(shared)),
        tls_(std::move(tls)),
        stream_(std::forward<StreamArgs>(args)...),
        server_(server),
        parser_(server ? http::HttpParser::Kind::kRequest : http::HttpParser::Kind::kResponse,
                shared_->options.max_header_bytes, shared_->options.max_body_bytes),
        read_dog_(stream_.get_executor(), [this] { Expire(read_phase_); }),
        write_dog_(stream_.get_executor(), [this] { Expire("write"); }),
        executor_(stream_.get_executor()),
        start_(Clock::now()) {}

  // Call once, right after make_shared.
  void Init() {
    read_dog_.SetOwner(this->weak_from_this());
    write_dog_.SetOwner(this->weak_from_this());
  }

  tcp::socket::lowest_layer_type& lowest_layer() { return stream_.lowest_layer(); }
  Stream& stream() { return stream_; }
  void set_host(std::string host) { host_ = std::move(host); }
  void set_conn_close(bool c) { conn_close_ = c; }

  // Starts a read-side deadline used by dial/handshake; the phase names a timeout error.
  void ArmRead(TimePoint deadline, const char* phase) {
    read_phase_ = phase;
    read_dog_.ArmAt(deadline);
  }
  void DisarmRead() { read_dog_.Disarm(); }
  const char* expired() const { return expired_; }

  void CacheAddresses() {
    std::error_code ec;
    auto l = lowest_layer().local_endpoint(ec);
    if (!ec) local_ = JoinHostPort(l.address().to_string(), l.port());
    auto r = lowest_layer().remote_endpoint(ec);
    if (!ec) remote_ = JoinHostPort(r.address().to_string(), r.port());
  }

  asio::awaitable<Status> Send(const Message& msg) override {
    if (closed_) co_return ClosedError();
    whead_.clear();
    if (server_) {
      http::AppendResponseHead(whead_, have_first_ ? &first_header_ : nullptr, msg.header,
                               msg.body.size());
    } else {
      http::AppendRequestHead(whead_, host_, msg.header, msg.body.size(), conn_close_);
    }
    const WriteBuffers bufs{asio::buffer(whead_), asio::buffer(msg.body)};
    std::error_code ec;
    const std::size_t written = WriteNow(stream_, bufs, ec);
    if (!ec && written < TotalSize(bufs)) {
      const auto& o = shared_->options;
      write_dog_.Arm(o.timeout > Duration::zero() ? o.timeout
                                                  : (server_ ? o.idle_timeout : o.timeout));
      auto [wec, n] = co_await asio::async_write(stream_, Remaining(bufs, written), kNoThrow);
      write_dog_.Disarm();
      ec = wec;
    }
    if (ec) co_return Failure("write", ec);
    if (server_ && ++responses_ >= close_at_ && close_at_ != 0) {
      DoClose();  // the peer asked for Connection: close
    }
    co_return Status{};
  }

  asio::awaitable<Status> Recv(Message& msg) override {
    if (closed_) co_return ClosedError();
    if (close_at_ != 0) co_return EofError();  // no requests after Connection: close
    if (!rbuf_) rbuf_ = std::make_unique<char[]>(kReadBufferSize);
    parser_.Start(&msg);
    const auto& o = shared_->options;
    const bool header_timeout = o.header_read_timeout > Duration::zero();
    bool header_deadline = false;
    std::size_t direct = kNotDirect;  // body bytes in place when reading straight into it
    if (server_) {
      if (first_request_ && header_timeout) {
        ArmRead(start_ + o.header_read_timeout, "header read");
        header_deadline = true;
      } else if (o.idle_timeout > Duration::zero()) {
        ArmRead(Clock::now() + o.idle_timeout, "idle");
      } else {
        read_dog_.Disarm();
      }
    } else if (o.timeout > Duration::zero()) {
      ArmRead(Clock::now() + o.timeout, "read");
    } else {
      read_dog_.Disarm();
    }
    for (;;) {
      if (rpos_ < rend_) {
        std::size_t used = 0;
        const auto st = parser_.Parse(rbuf_.get() + rpos_, rend_ - rpos_, &used);
        rpos_ += used;
        if (st == http::ParseStatus::kComplete) co_return Complete(msg);
        if (st == http::ParseStatus::kError) co_return co_await Reject(parser_.error_status());
      }
      rpos_ = rend_ = 0;
      if (server_) {
        if (parser_.started() && !parser_.headers_complete() && !header_deadline &&
            header_timeout) {
          ArmRead(Clock::now() + o.header_read_timeout, "header read");
          header_deadline = true;
        } else if (parser_.headers_complete()) {
          read_phase_ = "body read";  // a progress deadline for the body
          read_dog_.Arm(o.timeout > Duration::zero() ? o.timeout : o.idle_timeout);
        }
      }
      // A large body with a known length is read straight into the message: no pass through
      // the read buffer and no second copy (each read still re-arms the progress deadline).
      if (direct == kNotDirect) {
        if (const std::size_t left = parser_.body_remaining(); left >= kDirectBodyBytes) {
          direct = msg.body.size();
          msg.body.resize(direct + left);
        }
      }
      const asio::mutable_buffer into =
          direct == kNotDirect ? asio::buffer(rbuf_.get(), kReadBufferSize)
                               : asio::buffer(msg.body.data() + direct, msg.body.size() - direct);
      auto [ec, n] = co_await stream_.async_read_some(into, kNoThrow);
      if (ec) {
        if (direct != kNotDirect) msg.body.resize(direct);
        read_dog_.Disarm();
        if (IsEofCode(ec) && !expired_) {
          if (!parser_.started()) co_return EofError();
          const auto st = parser_.Finish();
          if (st == http::ParseStatus::kComplete) co_return Complete(msg);
          co_return errors::BadRequest(std::string(kTransportErrorId),
                                       "connection closed in the middle of a message");
        }
        if (expired_ && server_ && parser_.started()) co_return co_await Reject(408);
        co_return Failure("read", ec);
      }
      if (direct != kNotDirect) {
        const char* data = msg.body.data() + direct;
        direct += n;
        const auto st = parser_.ParseBodyInPlace(data, n);
        if (st == http::ParseStatus::kComplete) co_return Complete(msg);
        if (st == http::ParseStatus::kError) co_return co_await Reject(parser_.error_status());
        continue;
      }
      rend_ = n;
    }
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->DoClose(); });
  }

  bool Stale() override {
    if (closed_) return true;
    if (rpos_ < rend_) return true;  // bytes after the last answer: out of step
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      char byte = 0;
      const ssize_t n = ::recv(lowest_layer().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
      return true;  // 0: the peer closed; > 0: unsolicited bytes
    }
    return false;  // TLS: records (session tickets) may be pending; not checked
  }

  std::string Local() const override { return local_; }
  std::string Remote() const override { return remote_; }
  asio::any_io_executor executor() const override { return executor_; }

 private:
  static bool IsEofCode(const std::error_code& ec) {
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset;
  }

  Status Complete(Message& msg) {
    read_dog_.Disarm();
    if (server_) {
      if (first_request_) {
        first_request_ = false;
        first_header_ = msg.header;  // echoed in every response, as go-micro's hijacked socket
        have_first_ = true;
      }
      ++requests_;
      if (parser_.wants_close()) close_at_ = requests_;
      return {};
    }
    if (parser_.status_code() != 200) {
      Error e =
          errors::New(std::string(kTransportErrorId),
                      fmt::format("{} {}: {}", parser_.status_code(), parser_.reason(), msg.body),
                      parser_.status_code());
      return e;
    }
    return {};
  }

  Status Failure(std::string_view what, const std::error_code& ec) {
    if (expired_) {
      DoClose();
      return TimeoutError(expired_);
    }
    if (closed_) return ClosedError();
    DoClose();
    return IoError(what, ec);
  }

  // A bad request: answer with an HTTP error and close, reading (and dropping) a little of
  // what the peer still sends so that it sees the answer rather than a reset.
  asio::awaitable<Status> Reject(int status) {
    Error err = errors::New(
        std::string(kTransportErrorId),
        status == 408 ? std::string("header read timeout") : parser_.error_reason(), status);
    if (!server_ || closed_) {
      DoClose();
      co_return err;
    }
    expired_ = nullptr;
    whead_ = http::ErrorResponse(status);
    write_dog_.Arm(kRejectWriteTimeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(whead_), kNoThrow);
    if (!ec && !expired_) {
      std::error_code ignored;
      lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
      std::size_t drained = 0;
      while (drained < kLingerBytes && !expired_) {
        auto [rec, rn] =
            co_await stream_.async_read_some(asio::buffer(rbuf_.get(), kReadBufferSize), kNoThrow);
        if (rec) break;
        drained += rn;
      }
    }
    write_dog_.Disarm();
    DoClose();
    co_return err;
  }

  void Expire(const char* phase) {
    expired_ = phase;
    std::error_code ignored;
    lowest_layer().cancel(ignored);
  }

  void DoClose() {
    closed_ = true;
    read_dog_.Cancel();
    write_dog_.Cancel();
    std::error_code ignored;
    lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    lowest_layer().close(ignored);
  }

  std::shared_ptr<HttpShared> shared_;
  std::shared_ptr<asio::ssl::context> tls_;  // outlives stream_
  Stream stream_;
  bool server_;
  http::HttpParser parser_;
  Watchdog read_dog_;
  Watchdog write_dog_;
  const char* read_phase_ = "read";
  const char* expired_ = nullptr;
  asio::any_io_executor executor_;
  TimePoint start_;
  std::atomic<bool> closed_{false};
  std::unique_ptr<char[]> rbuf_;
  std::size_t rpos_ = 0;
  std::size_t rend_ = 0;
  std::string whead_;  // reused header block of outgoing messages
  std::string host_;   // client: the Host header (the dialled address)
  bool conn_close_ = false;
  bool first_request_ = true;
  bool have_first_ = false;
  Metadata first_header_;
  uint64_t requests_ = 0;
  uint64_t responses_ = 0;
  uint64_t close_at_ = 0;  // server: close after this many responses (Connection: close)
  std::string local_;
  std::string remote_;
};

template <class Stream>
std::shared_ptr<HttpSocket<Stream>> Attach(std::shared_ptr<HttpSocket<Stream>> s) {
  s->Init();
  return s;
}

asio::awaitable<void> ServeConnection(std::shared_ptr<HttpShared> shared,
                                      std::shared_ptr<asio::ssl::context> tls, tcp::socket sock,
                                      SocketHandler handler) {
  std::shared_ptr<Socket> socket;
  if (tls) {
    auto s =
        Attach(std::make_shared<HttpSocket<SslStream>>(shared, tls, true, std::move(sock), *tls));
    s->CacheAddresses();
    const Duration hrt = shared->options.header_read_timeout;
    s->ArmRead(Clock::now() + (hrt > Duration::zero() ? hrt : std::chrono::seconds(10)),
               "TLS handshake");
    auto [ec] = co_await s->stream().async_handshake(asio::ssl::stream_base::server, kNoThrow);
    s->DisarmRead();
    if (ec) {
      log::Debug("transport: TLS handshake with {} failed: {}", s->Remote(), ec.message());
      s->Close();
      co_return;
    }
    socket = std::move(s);
  } else {
    auto s =
        Attach(std::make_shared<HttpSocket<tcp::socket>>(shared, nullptr, true, std::move(sock)));
    s->CacheAddresses();
    socket = std::move(s);
  }
  try {
    co_await handler(socket);
  } catch (const std::exception& e) {
    log::Error("transport: connection handler threw: {}", e.what());
  }
  socket->Close();
}

class HttpListener final : public Listener {
 public:
  HttpListener(std::shared_ptr<HttpShared> shared, std::shared_ptr<asio::ssl::context> tls)
      : shared_(std::move(shared)),
        tls_(std::move(tls)),
        strand_(transport_detail::AcceptThreadExecutor()),
        acceptor_(strand_) {}

  Status Bind(const HostPort& hp) {
    std::vector<tcp::endpoint> candidates;
    if (hp.host.empty()) {
      candidates.emplace_back(tcp::v6(), 0);
      candidates.emplace_back(tcp::v4(), 0);
    } else {
      std::error_code ec;
      auto ip = asio::ip::make_address(hp.host, ec);
      if (!ec) {
        candidates.emplace_back(ip, 0);
      } else {
        tcp::resolver resolver(strand_);
        auto results = resolver.resolve(hp.host, "", ec);
        if (ec) return IoError("resolving " + hp.host, ec);
        for (const auto& r : results) candidates.emplace_back(r.endpoint().address(), 0);
      }
    }
    std::error_code last;
    for (uint32_t port = hp.min_port; port <= hp.max_port; ++port) {
      for (auto ep : candidates) {
        ep.port(static_cast<uint16_t>(port));
        std::error_code ec;
        acceptor_.open(ep.protocol(), ec);
        if (ec) {
          last = ec;
          continue;
        }
        if (ep.protocol() == tcp::v6() && hp.host.empty()) {
          acceptor_.set_option(asio::ip::v6_only(false), ec);
        }
        acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor_.bind(ep, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec) {
          auto local = acceptor_.local_endpoint(ec);
          addr_ = JoinHostPort(local.address().to_string(), local.port());
          return {};
        }
        last = ec;
        std::error_code ignored;
        acceptor_.close(ignored);
      }
    }
    return IoError("listen", last);
  }

  std::string Addr() const override { return addr_; }

  // Closed when this returns (a dial after it is refused): it waits for the accept thread,
  // up to a second (that thread is gone once the process is exiting).
  void Close() override {
    if (closed_.exchange(true)) return;
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::dispatch(strand_, [self = shared_from_this(), this, closed] {
      std::error_code ignored;
      acceptor_.close(ignored);
      closed->set_value();
    });
    if (!plugin::RunningInThisThread(strand_)) done.wait_for(std::chrono::seconds(1));
  }

  asio::any_io_executor executor() const override { return strand_; }

  asio::awaitable<Status> Accept(SocketHandler handler) override {
    auto self = shared_from_this();  // alive while accepting
    // Shared by the hand-offs, so none copies it on this thread.
    auto on_socket = std::make_shared<const SocketHandler>(std::move(handler));
    asio::steady_timer backoff(strand_);
    while (!closed_) {
      // The loops take each hand-off at their pace; this thread waits rather than run
      // ahead of them by more than kMaxHandoffs (what the pool then holds, at most).
      while (handoffs_->load(std::memory_order_relaxed) >= kMaxHandoffs && !closed_) {
        backoff.expires_after(std::chrono::microseconds(200));
        (void)co_await backoff.async_wait(kNoThrow);
      }
      auto conn_strand = plugin::MakeStrand(plugin::Spread(shared_->executor));
      auto [ec, sock] = co_await acceptor_.async_accept(conn_strand, kNoThrow);
      if (closed_) break;
      if (ec) {
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
        // Out of descriptors and the like: wait and retry, as Go's http.Server does.
        log::Warn("transport: accept on {} failed: {}; retrying", addr_, ec.message());
        backoff.expires_after(std::chrono::milliseconds(50));
        (void)co_await backoff.async_wait(kNoThrow);
        continue;
      }
      std::error_code ignored;
      sock.set_option(tcp::no_delay(true), ignored);
      // The connection's coroutine frame is allocated on its own loop, not here: this
      // thread's heap then holds little besides asio's per-descriptor states
      // (transport/accept_thread.h).
      auto serve = [shared = shared_, tls = tls_, sock = std::move(sock), on_socket,
                    handoffs = handoffs_]() mutable {
        handoffs->fetch_sub(1, std::memory_order_relaxed);
        auto ex = sock.get_executor();
        asio::co_spawn(
            ex, ServeConnection(std::move(shared), std::move(tls), std::move(sock), *on_socket),
            asio::detached);
      };
      handoffs_->fetch_add(1, std::memory_order_relaxed);
      if (const auto* io = conn_strand.target<asio::io_context::executor_type>()) {
        asio::post(*io, asio::bind_allocator(transport_detail::HandoffAllocator<void>(handoff_),
                                             std::move(serve)));
      } else {
        asio::post(conn_strand, std::move(serve));
      }
    }
    co_return Status{};
  }

 private:
  std::shared_ptr<HttpShared> shared_;
  std::shared_ptr<asio::ssl::context> tls_;
  asio::any_io_executor strand_;  // the process's accept thread (transport/accept_thread.h)
  // Hand-offs to the loops: memory reused from accept to accept, and a bound on how far the
  // accept thread may run ahead of the loops (what the pool then holds, at most).
  std::shared_ptr<transport_detail::HandoffPool> handoff_ =
      std::make_shared<transport_detail::HandoffPool>();
  static constexpr int kMaxHandoffs = 32;  // accepted sockets not yet taken by their loops
  std::shared_ptr<std::atomic<int>> handoffs_ = std::make_shared<std::atomic<int>>(0);
  tcp::acceptor acceptor_;
  std::string addr_;
  std::atomic<bool> closed_{false};
};

std::vector<std::string> CertificateHosts(const std::string& host) {
  if (host.empty() || host == "0.0.0.0" || host == "::") return {"localhost", "127.0.0.1", "::1"};
  return {host};
}

class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(std::shared_ptr<HttpShared> shared) : shared_(std::move(shared)) {}

  std::string String() const override { return "http"; }
  const TransportOptions& Options() const override { return shared_->options; }
  asio::any_io_executor executor() const override { return shared_->executor; }

  asio::awaitable<Result<std::shared_ptr<Socket>>> Dial(std::string addr,
                                                        DialOptions opts) override {
    // (Not a ?: around co_await: g++ 12 destroys the temporary executor twice.)
    asio::any_io_executor ex = opts.executor;
    if (!ex) ex = co_await asio::this_coro::executor;
    auto hp = ParseHostPort(addr);
    if (!hp) co_return std::move(hp).error();
    if (hp->min_port != hp->max_port) {
      co_return errors::BadRequest(std::string(kTransportErrorId), "cannot dial a port range");
    }
    const Duration timeout =
        opts.timeout > Duration::zero() ? opts.timeout : shared_->options.dial_timeout;
    const TimePoint deadline = Clock::now() + timeout;
    std::vector<tcp::endpoint> endpoints;
    {
      std::error_code ec;
      auto ip = asio::ip::make_address(hp->host.empty() ? "127.0.0.1" : hp->host, ec);
      if (!ec) {
        endpoints.emplace_back(ip, hp->min_port);
      } else {
        tcp::resolver resolver(ex);
        auto [rec, results] =
            co_await resolver.async_resolve(hp->host, std::to_string(hp->min_port), kNoThrow);
        if (rec) co_return IoError("resolving " + hp->host, rec);
        for (const auto& r : results) endpoints.push_back(r.endpoint());
      }
    }
    if (!shared_->options.secure) {
      auto s = Attach(std::make_shared<HttpSocket<tcp::socket>>(shared_, nullptr, false, ex));
      if (auto st = co_await Connect(*s, endpoints, deadline); !st.ok()) co_return st.error();
      Finish(*s, addr, opts);
      co_return std::shared_ptr<Socket>(std::move(s));
    }
    const bool skip = opts.insecure_skip_verify.value_or(shared_->options.tls.insecure_skip_verify);
    auto ctx = ClientContext(skip);
    if (!ctx) co_return std::move(ctx).error();
    auto s = Attach(std::make_shared<HttpSocket<SslStream>>(shared_, *ctx, false, ex, **ctx));
    if (auto st = co_await Connect(*s, endpoints, deadline); !st.ok()) co_return st.error();
    std::error_code not_ip;
    (void)asio::ip::make_address(hp->host, not_ip);
    if (not_ip && !hp->host.empty()) {
      SSL_set_tlsext_host_name(s->stream().native_handle(), hp->host.c_str());  // SNI
    }
    if (!skip) {
      s->stream().set_verify_callback(
          asio::ssl::host_name_verification(hp->host.empty() ? "127.0.0.1" : hp->host));
    }
    s->ArmRead(deadline, "TLS handshake");
    auto [ec] = co_await s->stream().async_handshake(asio::ssl::stream_base::client, kNoThrow);
    s->DisarmRead();
    if (ec) {
      s->Close();
      if (s->expired()) co_return TimeoutError("TLS handshake");
      co_return errors::InternalServerError(std::string(kTransportErrorId),
                                            "TLS handshake with {} failed: {}", addr, ec.message());
    }
    Finish(*s, addr, opts);
    co_return std::shared_ptr<Socket>(std::move(s));
  }

  Result<std::shared_ptr<Listener>> Listen(std::string addr, ListenOptions) override {
    auto hp = ParseHostPort(addr);
    if (!hp) return std::move(hp).error();
    std::shared_ptr<asio::ssl::context> tls;
    if (shared_->options.secure) {
      auto ctx = MakeServerContext(shared_->options.tls, CertificateHosts(hp->host));
      if (!ctx) return std::move(ctx).error();
      tls = std::move(*ctx);
    }
    auto l = std::make_shared<HttpListener>(shared_, std::move(tls));
    if (auto st = l->Bind(*hp); !st.ok()) return std::move(st).error();
    return std::shared_ptr<Listener>(std::move(l));
  }

 private:
  template <class Stream>
  static asio::awaitable<Status> Connect(HttpSocket<Stream>& s,
                                         const std::vector<tcp::endpoint>& endpoints,
                                         TimePoint deadline) {
    s.ArmRead(deadline, "dial");
    auto [ec, ep] = co_await asio::async_connect(s.lowest_layer(), endpoints, kNoThrow);
    s.DisarmRead();
    if (ec) {
      s.Close();
      if (s.expired()) co_return TimeoutError("dial");
      co_return IoError("dial", ec);
    }
    std::error_code ignored;
    s.lowest_layer().set_option(tcp::no_delay(true), ignored);
    co_return Status{};
  }

  template <class Stream>
  static void Finish(HttpSocket<Stream>& s, const std::string& addr, const DialOptions& opts) {
    s.CacheAddresses();
    s.set_host(addr);
    s.set_conn_close(opts.conn_close);
  }

  Result<std::shared_ptr<asio::ssl::context>> ClientContext(bool skip_verify) {
    std::lock_guard lock(mu_);
    auto& slot = skip_verify ? insecure_ctx_ : verify_ctx_;
    if (!slot) {
      auto ctx = MakeClientContext(shared_->options.tls, skip_verify);
      if (!ctx) return std::move(ctx).error();
      slot = std::move(*ctx);
    }
    return slot;
  }

  std::shared_ptr<HttpShared> shared_;
  std::mutex mu_;
  std::shared_ptr<asio::ssl::context> verify_ctx_;
  std::shared_ptr<asio::ssl::context> insecure_ctx_;
};

}  // namespace

Result<std::shared_ptr<Transport>> NewHttpTransport(TransportOptions options) {
  auto shared = std::make_shared<HttpShared>();
  shared->options = std::move(options);
  if (shared->options.executor) {
    shared->executor = shared->options.executor;
  } else {
    shared->io = IoThread::Create();
    shared->executor = shared->io->executor();
  }
  return std::shared_ptr<Transport>(std::make_shared<HttpTransport>(std::move(shared)));
}

}  // namespace micro
