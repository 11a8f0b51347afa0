#include "http/server.h"

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <unordered_map>

#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "transport/http_wire.h"
#include "transport/tls.h"
#include "transport/watchdog.h"
#include "transport/write_now.h"
#include "util/ascii.h"

namespace micro::http {
// Named, then anonymous: unity batches put several sources in one translation unit.
namespace server_impl {
namespace {

using asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A comma-separated header value lists token (case-insensitively): "keep-alive, Upgrade".
bool ListHasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (EqualsIgnoreCase(TrimSpace(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 &&
               HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Statuses whose replies never carry a body (nor a Content-Length of ours).
bool BodylessStatus(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  const std::size_t at = out.size();
  out.append(value);
  for (std::size_t i = at; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';  // no header injection
  }
  out.append("\r\n");
}

// The head of a reply: status line, the reply's headers in order, Content-Length,
// [Connection: close]. A handler's own Content-Length is kept only where it describes a body
// that is not sent (HEAD, 304); Transfer-Encoding is never passed on.
// Appends to out (a connection reuses one buffer for every reply).
void AppendReplyHead(std::string& out, const ServerReply& reply, bool head_request, bool close) {
  out.reserve(out.size() + 128 + reply.fixed_lines.size());
  out.append("HTTP/1.1 ");
  AppendDecimal(out, static_cast<std::size_t>(reply.status));
  out.append(" ").append(StatusText(reply.status)).append("\r\n");
  const bool bodyless = BodylessStatus(reply.status);
  const bool keep_length = head_request || reply.status == 304;
  bool has_length = false;
  for (const auto& [name, value] : reply.header) {
    if (!util::IsToken(name) || EqualsIgnoreCase(name, "Transfer-Encoding")) continue;
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (!keep_length || has_length) continue;
      has_length = true;
    } else if (close && EqualsIgnoreCase(name, "Connection")) {
      continue;  // ours says close
    }
    AppendField(out, name, value);
  }
  out.append(reply.fixed_lines);
  if (!bodyless && !has_length) {
    out.append("Content-Length: ");
    AppendDecimal(out, reply.body.size());
    out.append("\r\n");
  }
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
}

class Closable {
 public:
  virtual ~Closable() = default;
  // From any thread.
  virtual void Close() = 0;
};

// What connections share with their server.
struct Shared {
  ServerOptions options;
  ServerHandler handler;
  std::mutex mu;
  bool closed = false;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Closable>> conns;

  void Forget(uint64_t id) {
    std::lock_guard lock(mu);
    conns.erase(id);
  }
};

template <class Stream>
class Connection;

// The connection as a handler that took it over sees it.
template <class Stream>
class RawStream final : public ByteStream {
 public:
  RawStream(Connection<Stream>& conn, std::string leftover)
      : conn_(conn), leftover_(std::move(leftover)) {}

  asio::awaitable<Result<std::size_t>> ReadSome(char* data, std::size_t size) override {
    if (size == 0) co_return std::size_t{0};
    if (offset_ < leftover_.size()) {
      const std::size_t n = std::min(size, leftover_.size() - offset_);
      std::memcpy(data, leftover_.data() + offset_, n);
      offset_ += n;
      if (offset_ == leftover_.size()) {
        leftover_.clear();
        leftover_.shrink_to_fit();
        offset_ = 0;
      }
      co_return n;
    }
    auto [ec, n] = co_await conn_.stream().async_read_some(asio::buffer(data, size), kNoThrow);
    if (ec == asio::error::eof || (ec == asio::ssl::error::stream_truncated && n == 0)) {
      co_return std::size_t{0};
    }
    if (ec) {
      co_return errors::InternalServerError(conn_.error_id(), "read: {}", ec.message());
    }
    co_return n;
  }

  asio::awaitable<Status> Write(std::string_view data) override {
    auto [ec, n] = co_await asio::async_write(conn_.stream(),
                                              asio::buffer(data.data(), data.size()), kNoThrow);
    (void)n;
    if (ec) co_return errors::InternalServerError(conn_.error_id(), "write: {}", ec.message());
    co_return Status{};
  }

  void Close() override { conn_.CloseNow(); }
  asio::any_io_executor executor() const override { return conn_.strand(); }

 private:
  Connection<Stream>& conn_;
  std::string leftover_;
  std::size_t offset_ = 0;
};

template <class Stream>
class Connection final : public Closable, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(asio::any_io_executor strand, std::shared_ptr<Shared> shared, uint64_t id,
             std::string remote, Args&&... args)
      : strand_(std::move(strand)),
        shared_(std::move(shared)),
        options_(shared_->options),
        id_(id),
        remote_(std::move(remote)),
        stream_(std::forward<Args>(args)...),
        deadline_(strand_, [this] { OnDeadline(); }) {}

  Stream& stream() { return stream_; }
  const asio::any_io_executor& strand() const { return strand_; }
  std::string error_id() const { return options_.error_id; }

  void Close() override {
    asio::post(strand_, [self = this->shared_from_this()] { self->CloseNow(); });
  }

  // On the strand.
  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    deadline_.Cancel();
    std::error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

  asio::awaitable<void> Serve() {
    deadline_.SetOwner(this->weak_from_this());
    co_await ServeRequests();
    CloseNow();
    shared_->Forget(id_);
  }

 private:
  enum class Phase { kIdle, kReading, kBusy };

  // The watchdog fired: a request that is late gets a 408; anything else is closed.
  void OnDeadline() {
    if (phase_ == Phase::kReading) {
      timed_out_ = true;
      std::error_code ignored;
      stream_.lowest_layer().cancel(ignored);
    } else {
      CloseNow();
    }
  }

  // Writes bytes with the idle timeout as the deadline.
  // What the socket takes at once is written without waiting (transport/write_now.h).
  asio::awaitable<bool> WriteAll(transport_detail::WriteBuffers buffers) {
    phase_ = Phase::kBusy;
    std::error_code ec;
    const std::size_t written = transport_detail::WriteNow(stream_, buffers, ec);
    if (!ec && written < transport_detail::TotalSize(buffers)) {
      deadline_.Arm(options_.idle_timeout);
      auto [wec, n] = co_await asio::async_write(
          stream_, transport_detail::Remaining(buffers, written), kNoThrow);
      (void)n;
      deadline_.Disarm();
      ec = wec;
    }
    co_return !ec && !closed_;
  }

  asio::awaitable<void> Reject(int status) {
    const std::string reply = ErrorResponse(status);
    (void)co_await WriteAll({asio::buffer(reply), asio::const_buffer()});
  }

  asio::awaitable<void> ServeRequests() {
    if constexpr (std::is_same_v<Stream, SslStream>) {
      phase_ = Phase::kBusy;
      deadline_.Arm(options_.read_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
      deadline_.Disarm();
      if (ec) {
        log::Debug("http server: TLS handshake with {} failed: {}", remote_, ec.message());
        co_return;
      }
    }
    HttpParser parser(HttpParser::Kind::kRequest, options_.max_header_bytes,
                      options_.max_body_bytes);
    parser.SetKeepAllFields(true);
    std::string buf(kReadChunk, '\0');
    std::size_t begin = 0, end = 0;  // unparsed bytes are buf[begin, end)
    Message message;
    std::string head;  // the reply head, its storage reused from reply to reply
    while (!closed_) {
      parser.Start(&message);
      bool started = false;
      bool continue_checked = false;
      ParseStatus status = ParseStatus::kNeedMore;
      while (status == ParseStatus::kNeedMore) {
        if (begin == end) {
          begin = end = 0;
          if (!started) {
            phase_ = Phase::kIdle;
            deadline_.Arm(options_.idle_timeout);
          }
          auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), kNoThrow);
          if (ec || n == 0 || timed_out_) {
            if (timed_out_ && !closed_) co_await Reject(408);
            co_return;
          }
          end = n;
        }
        if (!started) {
          started = true;
          phase_ = Phase::kReading;
          deadline_.Arm(options_.read_timeout);
        }
        std::size_t used = 0;
        status = parser.Parse(buf.data() + begin, end - begin, &used);
        begin += used;
        if (status == ParseStatus::kNeedMore && !continue_checked && parser.headers_complete()) {
          continue_checked = true;
          if (EqualsIgnoreCase(message.header.GetOr("Expect"), "100-continue")) {
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [ec, n] = co_await asio::async_write(
                stream_, asio::buffer(kContinue.data(), kContinue.size()), kNoThrow);
            (void)n;
            if (ec) co_return;
          }
        }
      }
      phase_ = Phase::kBusy;
      deadline_.Disarm();
      if (status == ParseStatus::kError) {
        log::Debug("http server: bad request from {}: {}", remote_, parser.error_reason());
        co_await Reject(parser.error_status());
        co_return;
      }

      ServerRequest request{.method = parser.method(),
                            .target = parser.target(),
                            .header = std::move(message.header),
                            .body = std::move(message.body),
                            .remote = remote_};
      std::string_view before_fragment = request.target;
      before_fragment = before_fragment.substr(0, before_fragment.find('#'));
      const auto q = before_fragment.find('?');
      request.path = PathUnescape(before_fragment.substr(0, q));
      if (q != std::string_view::npos) request.raw_query = before_fragment.substr(q + 1);
      const bool upgrade = !request.header.GetOr("Upgrade").empty() &&
                           ListHasToken(request.header.GetOr("Connection"), "upgrade");

      ServerReply reply;
      try {
        reply = co_await shared_->handler(request);
      } catch (const std::exception& e) {
        log::Error("http server: handler of {} {} threw: {}", request.method, request.target,
                   e.what());
        reply = ServerReply{.status = 500, .body = "500 Internal Server Error", .close = true};
      }
      if (closed_) co_return;
      if (reply.take_over) {
        RawStream<Stream> raw(*this, buf.substr(begin, end - begin));
        try {
          co_await reply.take_over(raw);
        } catch (const std::exception& e) {
          log::Error("http server: connection handler of {} threw: {}", request.target, e.what());
        }
        co_return;
      }
      const bool close = reply.close || parser.wants_close() || upgrade ||
                         ListHasToken(reply.Get("Connection"), "close");
      const bool head_request = request.method == "HEAD";
      head.clear();
      AppendReplyHead(head, reply, head_request, close);
      const bool with_body = !head_request && !BodylessStatus(reply.status);
      if (!co_await WriteAll(
              {asio::buffer(head), with_body ? asio::buffer(reply.body) : asio::const_buffer()})) {
        co_return;
      }
      if (close) co_return;
      // The next request parses into this one's storage (the capacity of its header list and
      // body).
      message.header = std::move(request.header);
      message.body = std::move(request.body);
    }
  }

  asio::any_io_executor strand_;
  std::shared_ptr<Shared> shared_;
  const ServerOptions& options_;
  const uint64_t id_;
  const std::string remote_;
  Stream stream_;
  transport_detail::Watchdog deadline_;
  Phase phase_ = Phase::kIdle;
  bool timed_out_ = false;
  bool closed_ = false;
};

class ServerImpl final : public Server, public std::enable_shared_from_this<ServerImpl> {
 public:
  ServerImpl(asio::any_io_executor ex, ServerOptions options, ServerHandler handler)
      : ex_(ex),
        strand_(plugin::MakeStrand(ex)),
        acceptor_(strand_),
        shared_(std::make_shared<Shared>()) {
    shared_->options = std::move(options);
    shared_->handler = std::move(handler);
  }

  Status Bind() {
    const ServerOptions& o = shared_->options;
    auto hp = plugin::ParseHostPort(o.address);
    if (!hp) return std::move(hp).error();
    std::error_code ec;
    asio::ip::address ip = hp->host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                            : asio::ip::make_address(hp->host, ec);
    if (ec) {
      tcp::resolver resolver(strand_);
      auto results = resolver.resolve(hp->host, "", ec);
      if (ec || results.empty()) {
        return errors::BadRequest(o.error_id, "cannot resolve \"{}\"", hp->host);
      }
      ip = results.begin()->endpoint().address();
    }
    if (o.secure) {
      auto ctx = transport_detail::MakeServerContext(
          o.tls, {hp->host.empty() ? std::string("localhost") : hp->host});
      if (!ctx) return std::move(ctx).error();
      tls_ = *ctx;
    }
    std::error_code last;
    for (uint32_t port = hp->min_port; port <= hp->max_port; ++port) {
      tcp::endpoint ep(ip, static_cast<uint16_t>(port));
      acceptor_.open(ep.protocol(), ec);
      if (!ec && hp->host.empty()) acceptor_.set_option(asio::ip::v6_only(false), ec);
      if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acceptor_.bind(ep, ec);
      if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) {
        auto local = acceptor_.local_endpoint(ec);
        addr_ = plugin::JoinHostPort(local.address().to_string(), local.port());
        return {};
      }
      last = ec;
      std::error_code ignored;
      acceptor_.close(ignored);
    }
    return errors::InternalServerError(o.error_id, "listen on {}: {}", o.address, last.message());
  }

  void StartAccepting() { asio::co_spawn(strand_, AcceptLoop(shared_from_this()), asio::detached); }

  std::string Addr() const override { return addr_; }

  std::size_t Connections() const override {
    std::lock_guard lock(shared_->mu);
    return shared_->conns.size();
  }

  void Close() override {
    asio::post(strand_, [self = shared_from_this()] {
      std::error_code ignored;
      self->acceptor_.close(ignored);
    });
    std::vector<std::shared_ptr<Closable>> open;
    {
      std::lock_guard lock(shared_->mu);
      shared_->closed = true;
      for (auto& [id, w] : shared_->conns) {
        if (auto c = w.lock()) open.push_back(std::move(c));
      }
    }
    for (auto& c : open) c->Close();
  }

 private:
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerImpl> self) {
    for (;;) {
      auto conn_strand = plugin::MakeStrand(plugin::Spread(self->ex_));
      auto [ec, sock] = co_await self->acceptor_.async_accept(conn_strand, kNoThrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
        log::Warn("http server: accept on {} failed: {}", self->addr_, ec.message());
        // Out of descriptors and the like: give the connections a moment to end.
        asio::steady_timer pause(self->strand_, std::chrono::milliseconds(50));
        (void)co_await pause.async_wait(kNoThrow);
        continue;
      }
      if (self->tls_) {
        self->Spawn<SslStream>(std::move(conn_strand), std::move(sock), *self->tls_);
      } else {
        self->Spawn<tcp::socket>(std::move(conn_strand), std::move(sock));
      }
    }
  }

  template <class Stream, class... Args>
  void Spawn(asio::any_io_executor strand, tcp::socket sock, Args&&... args) {
    std::error_code ec;
    const auto peer = sock.remote_endpoint(ec);
    std::string remote =
        ec ? std::string() : plugin::JoinHostPort(peer.address().to_string(), peer.port());
    std::shared_ptr<Connection<Stream>> conn;
    {
      std::lock_guard lock(shared_->mu);
      if (shared_->closed || shared_->conns.size() >= shared_->options.max_connections) {
        if (!shared_->closed) log::Debug("http server {}: too many connections", addr_);
        sock.close(ec);
        return;
      }
      const uint64_t id = ++shared_->next_id;
      conn = std::make_shared<Connection<Stream>>(strand, shared_, id, std::move(remote),
                                                  std::move(sock), std::forward<Args>(args)...);
      shared_->conns.emplace(id, conn);
    }
    asio::co_spawn(
        strand, [conn]() -> asio::awaitable<void> { co_await conn->Serve(); }, asio::detached);
  }

  asio::any_io_executor ex_;
  asio::any_io_executor strand_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string addr_;
};

}  // namespace
}  // namespace server_impl

bool ServerRequest::WantsWebSocket() const {
  using server_impl::ListHasToken;
  return method == "GET" && ListHasToken(header.GetOr("Upgrade"), "websocket") &&
         ListHasToken(header.GetOr("Connection"), "upgrade") &&
         !header.GetOr("Sec-WebSocket-Key").empty() &&
         !header.GetOr("Sec-WebSocket-Version").empty();
}

ServerReply& ServerReply::Set(std::string_view name, std::string value) {
  bool set = false;
  std::erase_if(header, [&](auto& field) {
    if (!EqualsIgnoreCase(field.first, name)) return false;
    if (set) return true;  // a second one of the same name
    field.second = std::move(value);
    set = true;
    return false;
  });
  if (!set) header.emplace_back(std::string(name), std::move(value));
  return *this;
}

std::string_view ServerReply::Get(std::string_view name) const {
  for (const auto& [k, v] : header) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

Result<std::shared_ptr<Server>> Server::Start(asio::any_io_executor ex, ServerOptions options,
                                              ServerHandler handler) {
  auto server =
      std::make_shared<server_impl::ServerImpl>(ex, std::move(options), std::move(handler));
  if (Status s = server->Bind(); !s) return std::move(s).error();
  server->StartAccepting();
  return std::shared_ptr<Server>(server);
}

std::string QueryUnescape(std::string_view s) { return server_impl::Unescape(s, true); }

std::string PathUnescape(std::string_view s) { return server_impl::Unescape(s, false); }

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!raw_query.empty()) {
    const auto amp = raw_query.find('&');
    const std::string_view pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    // As Go since 1.17: a ';' separator is refused, so a pair holding one is skipped.
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;
    const auto eq = pair.find('=');
    out.emplace_back(QueryUnescape(pair.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : QueryUnescape(pair.substr(eq + 1)));
  }
  return out;
}

std::string QueryParam(std::string_view target, std::string_view key) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  for (auto& [k, v] : ParseQuery(query)) {
    if (k == key) return std::move(v);
  }
  return {};
}

}  // namespace micro::http
