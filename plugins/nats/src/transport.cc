// The "nats" transport (go-micro's transport/nats): a listener is a subscription on its
// subject; a dialled socket publishes requests with its own inbox as reply subject, and the
// listener makes one server socket per reply subject it sees.
#include <micro/broker.h>
#include <micro/logger.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <atomic>
#include <map>
#include <set>

#include "conn.h"
#include "micro/nats/nats.h"
#include "micro/plugin/async_queue.h"
#include "micro/plugin/io.h"

namespace micro::nats {
namespace {

using nats_detail::Conn;
using nats_detail::Msg;
using nats_detail::Subscription;
using plugin::AsyncQueue;
using MsgQueue = AsyncQueue<Msg>;

// Not a std::string: io threads may still build errors while static destructors run at exit.
constexpr const char* kSocketErrorId = kTransportErrorId.data();

Error Eof() { return errors::InternalServerError(kSocketErrorId, "EOF"); }
Error Closed() { return errors::InternalServerError(kSocketErrorId, "socket closed"); }

// "", ":0", "host:0": go-micro's default address, meaning "a fresh inbox".
bool IsAnyAddress(std::string_view addr) {
  return addr.empty() || (addr.size() >= 2 && addr.substr(addr.size() - 2) == ":0");
}

// A NATS subject we can subscribe to: tokens separated by dots, no whitespace, no wildcards.
bool ValidSubject(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  std::size_t token_start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      const auto token = s.substr(token_start, i - token_start);
      if (token.empty() || token == "*" || token == ">") return false;
      token_start = i + 1;
    } else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
      return false;
    }
  }
  return true;
}

// What every socket and listener of one transport shares: the connection, the executor
// behind it, and the demultiplexer of client inboxes.
class Core {
 public:
  Core(TransportOptions options, std::shared_ptr<Runtime> runtime)
      : runtime_(std::move(runtime)),
        options_(std::move(options)),
        lazy_(
            [&] {
              nats_detail::ConnOptions c;
              c.urls = nats_detail::NormalizeUrls(options_.addrs);
              c.connect_timeout = options_.dial_timeout;
              c.secure = options_.secure;
              c.tls = options_.tls;
              c.send_asap = true;  // a request/response path: no batching delay
              return c;
            }(),
            kSocketErrorId) {
    executor_ = options_.executor ? options_.executor : runtime_->executor();
  }

  ~Core() {
    replies_.reset();  // waits for a running handler before the map goes away
  }

  const TransportOptions& options() const { return options_; }
  asio::any_io_executor executor() const { return executor_; }
  Result<std::shared_ptr<Conn>> conn() { return lazy_.Get(); }

  // A new client inbox, receiving into q. The first call subscribes "<prefix>.*".
  Result<std::string> AddInbox(std::shared_ptr<MsgQueue> q) {
    auto c = lazy_.Get();
    if (!c) return std::move(c).error();
    std::lock_guard lock(mu_);
    if (!replies_) {
      prefix_ = Conn::NewInbox();
      auto sub = (*c)->Subscribe(prefix_ + ".*", "", [this](Msg m) { Deliver(std::move(m)); });
      if (!sub) return std::move(sub).error();
      replies_ = std::move(*sub);
    }
    std::string inbox = fmt::format("{}.{}", prefix_, ++next_inbox_);
    inboxes_[inbox] = std::move(q);
    return inbox;
  }

  void RemoveInbox(const std::string& inbox) {
    std::lock_guard lock(mu_);
    inboxes_.erase(inbox);
  }

  // Each transport serves a subject once.
  bool Claim(const std::string& subject) {
    std::lock_guard lock(mu_);
    return subjects_.insert(subject).second;
  }
  void Release(const std::string& subject) {
    std::lock_guard lock(mu_);
    subjects_.erase(subject);
  }

 private:
  // On a nats.c thread: queue the message for its socket.
  void Deliver(Msg m) {
    std::shared_ptr<MsgQueue> q;
    {
      std::lock_guard lock(mu_);
      auto it = inboxes_.find(m.subject);
      if (it == inboxes_.end()) return;  // a late answer for a closed socket
      q = it->second;
    }
    q->Push(std::move(m));
  }

  std::shared_ptr<Runtime> runtime_;  // first: destroyed last
  TransportOptions options_;
  nats_detail::LazyConn lazy_;
  asio::any_io_executor executor_;
  std::mutex mu_;
  std::string prefix_;
  uint64_t next_inbox_ = 0;
  std::map<std::string, std::shared_ptr<MsgQueue>, std::less<>> inboxes_;
  std::set<std::string> subjects_;
  std::unique_ptr<Subscription> replies_;  // last: destroyed first (see ~Core)
};

// Reads one queued NATS message as a transport message. Empty data is the peer's close.
Status Decode(const Msg& m, Message& out, std::atomic<bool>& peer_closed,
              const std::string& subject) {
  if (m.no_responders) {
    return errors::New(kSocketErrorId, fmt::format("no responders on nats subject {}", subject),
                       503);
  }
  if (m.data.empty()) {
    peer_closed = true;
    return Eof();
  }
  auto msg = broker::MessageFromJson(m.data);
  if (!msg) return errors::New(kSocketErrorId, msg.error().detail, msg.error().code);
  out = std::move(*msg);
  return {};
}

Status Pushed(AsyncQueue<Msg>::PopStatus st, bool closed, std::string_view which) {
  if (st == MsgQueue::PopStatus::kTimeout) {
    return errors::Timeout(kSocketErrorId, "{} timeout", which);
  }
  return closed ? Closed() : Eof();
}

class ClientSocket final : public Socket {
 public:
  ClientSocket(std::shared_ptr<Core> core, std::shared_ptr<Conn> conn, asio::any_io_executor ex,
               std::string target, std::string inbox, std::shared_ptr<MsgQueue> in)
      : core_(std::move(core)),
        conn_(std::move(conn)),
        ex_(std::move(ex)),
        target_(std::move(target)),
        inbox_(std::move(inbox)),
        in_(std::move(in)) {}
  ~ClientSocket() override { Close(); }

  asio::awaitable<Status> Send(const Message& msg) override {
    if (closed_) co_return Closed();
    if (peer_closed_) co_return Eof();
    co_return conn_->Publish(target_, broker::ToJson(msg), inbox_);
  }

  asio::awaitable<Status> Recv(Message& msg) override {
    if (closed_) co_return Closed();
    if (peer_closed_) co_return Eof();
    Msg m;
    const auto st = co_await in_->Pop(m, core_->options().timeout);
    if (st != MsgQueue::PopStatus::kOk) co_return Pushed(st, closed_, "read");
    co_return Decode(m, msg, peer_closed_, target_);
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    core_->RemoveInbox(inbox_);
    in_->Close();
    // Tell the server socket we are gone (an empty message; go-micro servers drop it).
    if (!peer_closed_) (void)conn_->Publish(target_, "", inbox_);
  }

  std::string Local() const override { return inbox_; }
  std::string Remote() const override { return target_; }
  asio::any_io_executor executor() const override { return ex_; }

 private:
  std::shared_ptr<Core> core_;
  std::shared_ptr<Conn> conn_;
  asio::any_io_executor ex_;
  std::string target_;
  std::string inbox_;
  std::shared_ptr<MsgQueue> in_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> peer_closed_{false};
};

// One client as the listener sees it: its reply subject and its queued messages.
struct ServerConn {
  std::string reply;
  asio::any_io_executor strand;
  std::shared_ptr<MsgQueue> in;
};

// What the listener's nats.c handler uses (it must not own the listener or the connection).
struct ListenerState {
  std::mutex mu;
  bool closed = false;
  std::map<std::string, std::shared_ptr<ServerConn>, std::less<>> conns;
  std::shared_ptr<AsyncQueue<std::shared_ptr<ServerConn>>> pending;
  asio::any_io_executor base;
};

class NatsListener;

class ServerSocket final : public Socket {
 public:
  ServerSocket(std::shared_ptr<NatsListener> listener, std::shared_ptr<ListenerState> state,
               std::shared_ptr<Core> core, std::shared_ptr<Conn> conn,
               std::shared_ptr<ServerConn> sc, std::string local)
      : listener_(std::move(listener)),
        state_(std::move(state)),
        core_(std::move(core)),
        conn_(std::move(conn)),
        sc_(std::move(sc)),
        local_(std::move(local)) {}
  ~ServerSocket() override { Close(); }

  asio::awaitable<Status> Send(const Message& msg) override {
    if (closed_) co_return Closed();
    if (peer_closed_) co_return Eof();
    co_return conn_->Publish(sc_->reply, broker::ToJson(msg));
  }

  asio::awaitable<Status> Recv(Message& msg) override {
    if (closed_) co_return Closed();
    if (peer_closed_) co_return Eof();
    Msg m;
    const auto st = co_await sc_->in->Pop(m, core_->options().idle_timeout);
    if (st != MsgQueue::PopStatus::kOk) co_return Pushed(st, closed_, "idle");
    co_return Decode(m, msg, peer_closed_, sc_->reply);
  }

  void Close() override;  // after NatsListener

  std::string Local() const override { return local_; }
  std::string Remote() const override { return sc_->reply; }
  asio::any_io_executor executor() const override { return sc_->strand; }

 private:
  std::shared_ptr<NatsListener> listener_;  // keeps the subscription (our inbound path)
  std::shared_ptr<ListenerState> state_;
  std::shared_ptr<Core> core_;
  std::shared_ptr<Conn> conn_;
  std::shared_ptr<ServerConn> sc_;
  std::string local_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> peer_closed_{false};
};

class NatsListener final : public Listener {
 public:
  NatsListener(std::shared_ptr<Core> core, std::shared_ptr<Conn> conn, std::string subject)
      : core_(std::move(core)),
        conn_(std::move(conn)),
        subject_(std::move(subject)),
        strand_(plugin::MakeStrand(core_->executor())),
        state_(std::make_shared<ListenerState>()) {
    state_->pending = std::make_shared<AsyncQueue<std::shared_ptr<ServerConn>>>();
    state_->base = core_->executor();
  }

  ~NatsListener() override {
    Close();
    std::unique_ptr<Subscription> gone;
    {
      std::lock_guard lock(state_->mu);
      gone = std::move(sub_);
    }
  }

  Status Subscribe() {
    auto sub = conn_->Subscribe(subject_, "", [s = state_](Msg m) { OnMessage(*s, std::move(m)); });
    if (!sub) return std::move(sub).error();
    {
      std::lock_guard lock(state_->mu);
      sub_ = std::move(*sub);
    }
    // Subscribed for real once the server has the SUB (a Dial right after Listen must work).
    return conn_->Flush(std::chrono::seconds(5));
  }

  std::string Addr() const override { return subject_; }

  // Stops accepting; sockets already accepted keep receiving until they close, then the
  // subscription goes (so a new listener may take the subject).
  void Close() override {
    {
      std::lock_guard lock(state_->mu);
      if (state_->closed) return;
      state_->closed = true;
    }
    state_->pending->Close();
    core_->Release(subject_);
    MaybeUnsubscribe();
  }

  // After Close, once no accepted socket is left. Never on a nats.c thread.
  void MaybeUnsubscribe() {
    std::unique_ptr<Subscription> gone;
    {
      std::lock_guard lock(state_->mu);
      if (!state_->closed || !state_->conns.empty()) return;
      gone = std::move(sub_);
    }
    gone.reset();  // waits for a running handler
  }

  asio::awaitable<Status> Accept(SocketHandler handler) override {
    auto self = std::static_pointer_cast<NatsListener>(shared_from_this());
    for (;;) {
      std::shared_ptr<ServerConn> sc;
      const auto st = co_await state_->pending->Pop(sc, Duration::zero());
      if (st != AsyncQueue<std::shared_ptr<ServerConn>>::PopStatus::kOk) break;
      auto sock = std::make_shared<ServerSocket>(self, state_, core_, conn_, sc, subject_);
      asio::co_spawn(
          sc->strand,
          [](SocketHandler h, std::shared_ptr<Socket> s) -> asio::awaitable<void> {
            try {
              co_await h(s);
            } catch (const std::exception& e) {
              log::Error("transport: connection handler threw: {}", e.what());
            }
            s->Close();
          }(handler, std::move(sock)),
          asio::detached);
    }
    co_return Status{};
  }

  asio::any_io_executor executor() const override { return strand_; }

 private:
  // On a nats.c thread.
  static void OnMessage(ListenerState& st, Msg m) {
    if (m.reply.empty()) return;  // not from a transport client
    std::shared_ptr<ServerConn> sc;
    {
      std::lock_guard lock(st.mu);
      auto it = st.conns.find(m.reply);
      if (it != st.conns.end()) {
        sc = it->second;
      } else if (m.data.empty() || st.closed) {
        // A close for a socket we never saw (or already closed), or a new client of a closed
        // listener: unanswered (the client's deadline, and its retry, take over).
        return;
      } else {
        sc = std::make_shared<ServerConn>();
        sc->reply = m.reply;
        sc->strand = plugin::MakeStrand(st.base);
        sc->in = std::make_shared<MsgQueue>();
        st.conns.emplace(m.reply, sc);
        st.pending->Push(sc);
      }
    }
    sc->in->Push(std::move(m));
  }

  std::shared_ptr<Core> core_;
  std::shared_ptr<Conn> conn_;
  std::string subject_;
  asio::any_io_executor strand_;
  std::shared_ptr<ListenerState> state_;
  std::unique_ptr<Subscription> sub_;
};

void ServerSocket::Close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard lock(state_->mu);
    state_->conns.erase(sc_->reply);
  }
  sc_->in->Close();
  if (!peer_closed_) (void)conn_->Publish(sc_->reply, "");
  listener_->MaybeUnsubscribe();
}

class NatsTransport final : public Transport {
 public:
  explicit NatsTransport(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  std::string String() const override { return "nats"; }
  const TransportOptions& Options() const override { return core_->options(); }
  asio::any_io_executor executor() const override { return core_->executor(); }

  asio::awaitable<Result<std::shared_ptr<Socket>>> Dial(std::string addr,
                                                        DialOptions opts) override {
    asio::any_io_executor ex = opts.executor;
    if (!ex) ex = co_await asio::this_coro::executor;
    if (!ValidSubject(addr)) {
      co_return errors::BadRequest(kSocketErrorId, "not a NATS subject: \"{}\"", addr);
    }
    auto conn = core_->conn();
    if (!conn) co_return std::move(conn).error();
    auto in = std::make_shared<MsgQueue>();
    auto inbox = core_->AddInbox(in);
    if (!inbox) co_return std::move(inbox).error();
    co_return std::shared_ptr<Socket>(
        std::make_shared<ClientSocket>(core_, *conn, ex, std::move(addr), *inbox, in));
  }

  Result<std::shared_ptr<Listener>> Listen(std::string addr, ListenOptions) override {
    auto conn = core_->conn();
    if (!conn) return std::move(conn).error();
    std::string subject = IsAnyAddress(addr) ? Conn::NewInbox() : addr;
    if (!ValidSubject(subject)) {
      return errors::BadRequest(kSocketErrorId, "not a NATS subject: \"{}\"", addr);
    }
    if (!core_->Claim(subject)) {
      return errors::InternalServerError(kSocketErrorId, "address {} in use", subject);
    }
    auto l = std::make_shared<NatsListener>(core_, *conn, subject);
    if (Status s = l->Subscribe(); !s) return std::move(s).error();
    return std::shared_ptr<Listener>(std::move(l));
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::shared_ptr<Transport>> NewTransport(TransportOptions options) {
  std::shared_ptr<Runtime> runtime;
  if (!options.executor) runtime = nats_detail::OwnRuntime();
  auto core = std::make_shared<Core>(std::move(options), std::move(runtime));
  (void)core->conn();  // connect now if we can (not on an I/O thread later); else lazily
  return std::shared_ptr<Transport>(std::make_shared<NatsTransport>(std::move(core)));
}

}  // namespace micro::nats
