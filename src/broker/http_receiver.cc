#include "broker/http_receiver.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/ssl.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <mutex>
#include <vector>

#include "micro/broker.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "transport/http_wire.h"
#include "transport/tls.h"
#include "transport/watchdog.h"

namespace micro::broker_detail {
namespace {

using asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string ReplyHead(const HttpReply& reply) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", reply.status, StatusText(reply.status));
  if (!reply.content_type.empty()) head += fmt::format("Content-Type: {}\r\n", reply.content_type);
  head += fmt::format("Content-Length: {}\r\n\r\n", reply.body.size());
  return head;
}

// Closing a connection from outside its strand.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void Close() = 0;
};

template <class Stream>
class Connection final : public Closable, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(asio::any_io_executor strand, Duration idle_timeout, Args&&... args)
      : strand_(std::move(strand)),
        stream_(std::forward<Args>(args)...),
        idle_timeout_(idle_timeout),
        idle_(strand_, [this] { CloseNow(); }) {}

  Stream& stream() { return stream_; }

  void Close() override {
    asio::post(strand_, [self = this->shared_from_this()] { self->CloseNow(); });
  }

  asio::awaitable<void> Serve(const RequestHandler& handler, std::size_t max_body) {
    idle_.SetOwner(this->weak_from_this());
    if constexpr (std::is_same_v<Stream, SslStream>) {
      idle_.Arm(std::chrono::seconds(10));
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (ec) {
        log::Debug("broker: TLS handshake failed: {}", ec.message());
        CloseNow();
        co_return;
      }
    }
    http::HttpParser parser(http::HttpParser::Kind::kRequest, kMaxHeaderBytes, max_body);
    std::string buf(16 * 1024, '\0');
    std::size_t begin = 0, end = 0;  // unparsed bytes are buf[begin, end)
    while (!closed_) {
      HttpRequest request;
      parser.Start(&request.message);
      http::ParseStatus status = http::ParseStatus::kNeedMore;
      while (status == http::ParseStatus::kNeedMore) {
        if (begin == end) {
          begin = end = 0;
          idle_.Arm(idle_timeout_);
          auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), kNoThrow);
          idle_.Disarm();
          if (ec || n == 0) {
            CloseNow();
            co_return;
          }
          end = n;
        }
        std::size_t used = 0;
        status = parser.Parse(buf.data() + begin, end - begin, &used);
        begin += used;
      }
      if (status == http::ParseStatus::kError) {
        std::string rejection = http::ErrorResponse(parser.error_status());
        (void)co_await asio::async_write(stream_, asio::buffer(rejection), kNoThrow);
        CloseNow();
        co_return;
      }
      request.method = parser.method();
      request.target = parser.target();
      HttpReply reply = co_await handler(request);
      std::string head = ReplyHead(reply);
      std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(reply.body)};
      idle_.Arm(idle_timeout_);
      auto [ec, n] = co_await asio::async_write(stream_, out, kNoThrow);
      idle_.Disarm();
      if (ec || parser.wants_close()) break;
    }
    CloseNow();
  }

 private:
  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    idle_.Cancel();
    std::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  asio::any_io_executor strand_;
  Stream stream_;
  Duration idle_timeout_;
  transport_detail::Watchdog idle_;
  bool closed_ = false;
};

class Receiver final : public HttpReceiver, public std::enable_shared_from_this<Receiver> {
 public:
  Receiver(asio::any_io_executor ex, ReceiverOptions options, RequestHandler handler)
      : ex_(ex),
        strand_(plugin::MakeStrand(ex)),
        acceptor_(strand_),
        options_(std::move(options)),
        handler_(std::move(handler)) {}

  Status Bind() {
    auto hp = plugin::ParseHostPort(options_.address);
    if (!hp) return std::move(hp).error();
    std::error_code ec;
    asio::ip::address ip = hp->host.empty() ? asio::ip::address(asio::ip::address_v6::any())
                                            : asio::ip::make_address(hp->host, ec);
    if (ec) {
      tcp::resolver resolver(strand_);
      auto results = resolver.resolve(hp->host, "", ec);
      if (ec || results.empty()) {
        return errors::BadRequest(std::string(broker::kErrorId), "cannot resolve \"{}\"", hp->host);
      }
      ip = results.begin()->endpoint().address();
    }
    if (options_.secure) {
      auto ctx = transport_detail::MakeServerContext(
          options_.tls, {hp->host.empty() ? std::string("localhost") : hp->host});
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
    return errors::InternalServerError(std::string(broker::kErrorId), "listen on {}: {}",
                                       options_.address, last.message());
  }

  void StartAccepting() { asio::co_spawn(strand_, AcceptLoop(shared_from_this()), asio::detached); }

  std::string Addr() const override { return addr_; }

  void Close() override {
    asio::post(strand_, [self = shared_from_this()] {
      std::error_code ignored;
      self->acceptor_.close(ignored);
    });
    std::vector<std::shared_ptr<Closable>> open;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      for (auto& w : conns_) {
        if (auto c = w.lock()) open.push_back(std::move(c));
      }
      conns_.clear();
    }
    for (auto& c : open) c->Close();
  }

 private:
  static asio::awaitable<void> AcceptLoop(std::shared_ptr<Receiver> self) {
    for (;;) {
      auto conn_strand = plugin::MakeStrand(self->ex_);
      auto [ec, sock] = co_await self->acceptor_.async_accept(conn_strand, kNoThrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
        log::Warn("broker: accept failed: {}", ec.message());
        continue;
      }
      if (self->tls_) {
        self->Spawn<SslStream>(conn_strand, std::move(sock), *self->tls_);
      } else {
        self->Spawn<tcp::socket>(conn_strand, std::move(sock));
      }
    }
  }

  template <class Stream, class... Args>
  void Spawn(asio::any_io_executor strand, Args&&... args) {
    auto conn = std::make_shared<Connection<Stream>>(strand, options_.idle_timeout,
                                                     std::forward<Args>(args)...);
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      std::erase_if(conns_, [](const auto& w) { return w.expired(); });
      conns_.push_back(conn);
    }
    asio::co_spawn(
        strand,
        [conn, self = shared_from_this()]() -> asio::awaitable<void> {
          co_await conn->Serve(self->handler_, self->options_.max_body_bytes);
        },
        asio::detached);
  }

  asio::any_io_executor ex_;
  asio::any_io_executor strand_;
  tcp::acceptor acceptor_;
  ReceiverOptions options_;
  RequestHandler handler_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string addr_;
  std::mutex mu_;
  bool closed_ = false;
  std::vector<std::weak_ptr<Closable>> conns_;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's url.QueryUnescape, lenient: a bad escape is kept as it is.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<HttpReceiver>> HttpReceiver::Start(asio::any_io_executor ex,
                                                          ReceiverOptions options,
                                                          RequestHandler handler) {
  auto receiver = std::make_shared<Receiver>(ex, std::move(options), std::move(handler));
  if (Status s = receiver->Bind(); !s) return std::move(s).error();
  receiver->StartAccepting();
  return std::shared_ptr<HttpReceiver>(receiver);
}

std::string QueryParam(std::string_view target, std::string_view key) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    if (Unescape(name) == key) {
      return eq == std::string_view::npos ? std::string() : Unescape(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace micro::broker_detail
