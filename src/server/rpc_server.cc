// The mucp server: transport listener + router + registration loop.
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "micro/broker.h"
#include "micro/logger.h"
#include "micro/resilience.h"
#include "micro/runtime.h"
#include "micro/server.h"
#include "micro/transport.h"
#include "micro/util.h"
#include "runtime/allocator_tuning.h"
#include "server/endpoint_description.h"
#include "server/router.h"
#include "server/server_stream.h"
#include "server/subscribers.h"
#include "util/advertise.h"
#include "util/worker_pool.h"

namespace micro {

const std::string& DefaultServerId() {
  // Never destroyed: I/O threads may still register or stop servers during static destruction.
  static const std::string* id = new std::string(NewUuid());
  return *id;
}

namespace {

using server_detail::LockedSend;
using server_detail::Router;
using server_detail::SendLock;
using server_detail::ServerStreamImpl;

class RpcServer final : public Server, public std::enable_shared_from_this<RpcServer> {
 public:
  explicit RpcServer(ServerOptions options)
      : options_(std::move(options)),
        pool_(options_.handler_threads, "micro-handler"),
        router_({.server_name = options_.name,
                 .wrappers = options_.wrappers,
                 .handler_pool = &pool_,
                 .inline_handlers = options_.inline_handlers}),
        subscribers_(options_.name, options_.subscriber_wrappers) {}

  ~RpcServer() override {
    (void)Stop();
    pool_.Join();
  }

  Status Handle(Handler handler) override { return router_.Add(std::move(handler)); }
  Status Subscribe(ServerSubscriber subscriber) override {
    return subscribers_.Add(std::move(subscriber));
  }

  Status Start() override {
    std::lock_guard lock(lifecycle_mu_);
    if (started_) return {};
    auto listener = options_.transport->Listen(options_.address);
    if (!listener) return std::move(listener).error();
    if (Status s = subscribers_.Start(options_.broker); !s) {
      (*listener)->Close();
      return s;
    }
    listener_ = *listener;
    address_ = listener_->Addr();
    draining_ = false;
    std::weak_ptr<RpcServer> weak = weak_from_this();
    listener_->Start([weak](std::shared_ptr<Socket> sock) -> asio::awaitable<void> {
      if (auto self = weak.lock()) co_await self->ServeConnection(std::move(sock));
    });
    log::Info("Transport [{}] Listening on {}", options_.transport->String(), address_);
    if (options_.registry) {
      if (Status check = RunRegisterCheck(); !check) {
        log::Warn("Server {}: register check failed, not registering yet: {}", options_.name,
                  check.error());
      } else if (Status s = RegisterWithRetries(); !s) {
        log::Error("Server register error: {}", s.error());
      }
      StartRegistrar();
    }
    started_ = true;
    return {};
  }

  Status Stop() override {
    std::lock_guard lock(lifecycle_mu_);
    if (!started_) return {};
    started_ = false;
    Status result;
    subscribers_.Stop();
    StopRegistrar();
    if (options_.registry && registered_) {
      if (Status s = options_.registry->Deregister(Registration()); !s) result = s;
      registered_ = false;
    }
    draining_ = true;
    listener_->Close();
    Drain();
    std::vector<std::shared_ptr<Socket>> open;
    {
      std::lock_guard l(sockets_mu_);
      for (auto& w : sockets_) {
        if (auto s = w.lock()) open.push_back(std::move(s));
      }
    }
    for (auto& s : open) s->Close();
    return result;
  }

  std::string Address() const override {
    std::lock_guard lock(lifecycle_mu_);
    return address_;
  }

  registry::Service Registration() const override {
    registry::Service svc;
    svc.name = options_.name;
    svc.version = options_.version;
    registry::Node node;
    node.id = options_.name + "-" + (options_.id.empty() ? DefaultServerId() : options_.id);
    node.address =
        util::AdvertiseAddress(address_.empty() ? options_.address : address_, options_.advertise);
    node.metadata = {options_.metadata.begin(), options_.metadata.end()};
    node.metadata["transport"] = options_.transport->String();
    node.metadata["broker"] = options_.broker ? options_.broker->String() : "http";
    node.metadata["server"] = "mucp";
    node.metadata["registry"] = options_.registry ? options_.registry->String() : "";
    node.metadata["protocol"] = "mucp";
    svc.nodes.push_back(std::move(node));
    for (const Handler* h : router_.Advertised()) {
      std::vector<const Endpoint*> eps;
      for (const Endpoint& e : h->endpoints) eps.push_back(&e);
      std::sort(eps.begin(), eps.end(), [](auto* a, auto* b) { return a->name < b->name; });
      for (const Endpoint* e : eps) svc.endpoints.push_back(server_detail::DescribeEndpoint(*e));
    }
    for (auto& e : subscribers_.Endpoints()) svc.endpoints.push_back(std::move(e));
    return svc;
  }

  const ServerOptions& Options() const override { return options_; }
  std::string String() const override { return "mucp"; }

 private:
  // --- serving ---------------------------------------------------------------------------

  // How long the connections must carry no request before a draining server closes the idle
  // ones (bounded by drain_timeout). Clients stop picking this node once they see it
  // deregistered or a dial refused; a request racing with the close is the one failure left.
  static constexpr Duration kDrainQuiet = std::chrono::milliseconds(500);
  // Connections at once after which, once they are mostly gone, free memory is handed back.
  static constexpr int kTrimAfterPeak = 32;
  static constexpr Duration kTrimDelay = std::chrono::milliseconds(100);
  // Connections opened since the last trim after which closing to a few trims.
  static constexpr int kTrimAfterChurn = 1024;

  // Stop's drain, after deregistering and closing the listener: waits until no call runs and
  // either no connection is left or none has carried a request for kDrainQuiet, at most
  // drain_timeout. While draining, every answer says "Connection: close" and ends its
  // connection, so a client sends at most one more request on each connection it pooled, and
  // it is answered: closing a connection while a request may be on its way is what loses
  // calls, so idle connections are closed only once quiet.
  void Drain() {
    const auto deadline = Clock::now() + options_.drain_timeout;
    const auto quiet = std::min<Duration>(kDrainQuiet, options_.drain_timeout);
    std::unique_lock l(inflight_mu_);
    for (;;) {
      const auto now = Clock::now();
      const bool idle = inflight_ == 0;
      const bool quiet_now =
          connections_ == 0 ||
          now - TimePoint(Duration(last_request_.load(std::memory_order_relaxed))) >= quiet;
      if (idle && quiet_now) return;
      if (now >= deadline) {
        if (!idle) {
          log::Warn("Server {}: {} calls still running after the {} ms drain", options_.name,
                    inflight_,
                    std::chrono::duration_cast<std::chrono::milliseconds>(options_.drain_timeout)
                        .count());
        }
        return;
      }
      inflight_cv_.wait_until(l, std::min(deadline, now + std::chrono::milliseconds(10)));
    }
  }

  void NoteRequest() {
    last_request_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }

  void Begin() {
    std::lock_guard l(inflight_mu_);
    ++inflight_;
  }
  void End() {
    {
      std::lock_guard l(inflight_mu_);
      --inflight_;
    }
    inflight_cv_.notify_all();
  }

  // The streams open on one connection, by Micro-Stream id (go-micro's server multiplexes a
  // connection's messages into per-stream pseudo-sockets the same way). An entry lives until
  // its handler has returned and the client has ended its side (EOS or error), or the
  // connection ends: a late client EOS for a finished stream is then still recognised and not
  // taken for a stray one. Shared with the streams' handler coroutines, hence the lock.
  struct ConnectionStreams {
    struct Entry {
      std::shared_ptr<ServerStreamImpl> stream;
      bool handler_done = false;
      bool client_done = false;
    };
    std::mutex mu;
    std::map<std::string, Entry> open;

    void HandlerDone(const std::string& id) {
      std::lock_guard l(mu);
      auto it = open.find(id);
      if (it == open.end()) return;
      it->second.handler_done = true;
      if (it->second.client_done) open.erase(it);
    }
  };

  asio::awaitable<void> ServeConnection(std::shared_ptr<Socket> sock) {
    {
      std::lock_guard l(sockets_mu_);
      std::erase_if(sockets_, [](auto& w) { return w.expired(); });
      sockets_.push_back(sock);
    }
    {
      std::lock_guard l(inflight_mu_);
      ++connections_;
      ++opened_since_trim_;
    }
    co_await ServeRequests(sock);
    {
      // Forget it now, not at the next accept: a weak_ptr keeps a make_shared socket's whole
      // allocation (~2 KB) alive, and a thousand of those after a surge is memory never freed.
      std::lock_guard l(sockets_mu_);
      std::erase_if(sockets_, [&](const std::weak_ptr<Socket>& w) {
        return w.expired() || (!w.owner_before(sock) && !sock.owner_before(w));
      });
    }
    bool trim = false;
    {
      std::lock_guard l(inflight_mu_);
      --connections_;
      peak_connections_ = std::max(peak_connections_, connections_ + 1);
      // A surge of connections has ended: their buffers, freed in the middle of the heap, stay
      // resident until handed back (1,000 idle connections: ~23 MB that would never go).
      // Each halving from a peak trims once (a few times per surge, never per connection),
      // all the way down: what the last connections of the surge held goes back too.
      if (peak_connections_ >= kTrimAfterPeak) in_surge_ = true;
      if (in_surge_ && connections_ <= peak_connections_ / 2) {
        peak_connections_ = connections_;
        in_surge_ = connections_ > 1;
        trim = true;
      }
      // Churn without a peak (connect, close, over and over) leaves freed buffers behind too:
      // once many connections came and went, a quiet moment trims as well.
      if (opened_since_trim_ >= kTrimAfterChurn && connections_ <= kTrimAfterPeak / 2) {
        trim = true;
      }
      if (trim) opened_since_trim_ = 0;
    }
    inflight_cv_.notify_all();
    // One trim at a time, a moment later: the closes that come with this one (a client
    // dropping its pool at once) have then freed their buffers too, and one trim covers them.
    // A request made while a trim runs makes it run once more.
    // It runs on this connection's loop (a timer, not a thread), so it ends with the Runtime.
    if (trim && trim_requests_->fetch_add(1) == 0) {
      asio::co_spawn(sock->executor(), TrimSoon(trim_requests_), asio::detached);
    }
  }

  static asio::awaitable<void> TrimSoon(std::shared_ptr<std::atomic<int>> requests) {
    asio::steady_timer delay(co_await asio::this_coro::executor);
    for (;;) {
      int seen = requests->load();
      delay.expires_after(kTrimDelay);
      auto [ec] = co_await delay.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      co_await runtime_detail::ReleaseFreeMemoryOfLoops();
      if (requests->compare_exchange_strong(seen, 0)) co_return;
    }
  }

  asio::awaitable<void> ServeRequests(std::shared_ptr<Socket> sock) {
    auto lock = std::make_shared<SendLock>(sock->executor());
    auto streams = std::make_shared<ConnectionStreams>();
    bool streamed = false;  // a stream was opened: its handlers send concurrently with this loop
    for (;;) {
      Message in;
      if (Status s = co_await sock->Recv(in); !s) break;
      const auto route = server_detail::ReadRouteInfo(in.header);
      if (!route.stream.empty()) {
        const auto client_error = GetHeader(in.header, "Micro-Error");
        const bool client_ends = client_error && !client_error->empty();
        std::shared_ptr<ServerStreamImpl> known;
        bool live = false;
        {
          std::lock_guard l(streams->mu);
          if (auto it = streams->open.find(route.stream); it != streams->open.end()) {
            known = it->second.stream;
            live = !it->second.handler_done;
            if (client_ends) {
              it->second.client_done = true;
              if (it->second.handler_done) streams->open.erase(it);
            }
          }
        }
        if (known) {
          if (live) known->Push(std::move(in));  // a finished handler reads no more
          continue;
        }
        if (client_ends) break;  // an EOS (or error) for a stream never opened: as go-micro
        streamed = true;
        co_await StartStream(sock, lock, route, std::move(in), streams);
        continue;
      }
      NoteRequest();
      Begin();
      Message out;
      if (!GetHeader(in.header, "Micro-Topic").value_or("").empty()) {
        out = co_await HandleEvent(in);
      } else if (options_.max_in_flight > 0 &&
                 unary_in_flight_.fetch_add(1) >= options_.max_in_flight) {
        unary_in_flight_--;
        out = Shed(in);
      } else {
        out = co_await router_.ServeUnary(in, sock->Local(), sock->Remote());
        if (options_.max_in_flight > 0) unary_in_flight_--;
      }
      // Draining: this is the connection's last answer, and the client is told so (it must not
      // pool the connection and send another request that would meet the close).
      const bool last = draining_.load();
      if (last) out.header.Set("Connection", "close");
      // Only streams' handler threads send concurrently with this loop. (No co_await in a
      // ?: expression: g++ 12 destroys its result twice.)
      Status sent;
      if (streamed) {
        sent = co_await LockedSend(*sock, *lock, out);
      } else {
        sent = co_await sock->Send(out);
      }
      End();
      if (!sent || last) break;
      if (EqualsIgnoreCase(GetHeader(in.header, "Connection").value_or(""), "close")) break;
    }
    std::map<std::string, ConnectionStreams::Entry> left;
    {
      std::lock_guard l(streams->mu);
      left.swap(streams->open);
    }
    for (auto& [id, entry] : left) {
      entry.stream->Abort(errors::InternalServerError(options_.name, "connection closed"));
    }
  }

  // A published message sent straight to this server over the transport (go-micro's
  // HandleEvent): its subscribers run on the handler pool; the answer carries the request's
  // headers back, with Micro-Error on failure, and no body.
  asio::awaitable<Message> HandleEvent(const Message& in) {
    auto deliver = [this, &in] { return subscribers_.HandleEvent(in); };
    Status s = co_await router_.OnPool(deliver);
    Message out;
    out.header = in.header;
    out.header.Delete("Content-Length");
    if (!s) out.header.Set("Micro-Error", s.error().ToJson());
    co_return out;
  }

  // The answer to a unary call beyond max_in_flight: 503 at once, in the request's codec.
  Message Shed(const Message& in) const {
    const auto route = server_detail::ReadRouteInfo(in.header);
    auto codec = server_detail::RequestCodec(route);
    if (!codec) return server_detail::UnsupportedContentType(route.content_type);
    return server_detail::ErrorResponse(codec->get(), route,
                                        resilience::ServerBusy(options_.max_in_flight).ToJson());
  }

  // Opens the stream route.stream on this connection: registers it in `streams` and runs its
  // handler; answers an error (and registers nothing) when it cannot be served.
  asio::awaitable<void> StartStream(std::shared_ptr<Socket> sock, std::shared_ptr<SendLock> lock,
                                    const server_detail::RouteInfo& route, Message first,
                                    std::shared_ptr<ConnectionStreams> streams) {
    auto codec = server_detail::RequestCodec(route);
    if (!codec) {
      const Message answer = server_detail::UnsupportedContentType(route.content_type);
      (void)co_await LockedSend(*sock, *lock, answer);
      co_return;
    }
    auto endpoint = router_.Find(route.endpoint);
    if (!endpoint || !(*endpoint)->sync_stream) {
      std::string text = endpoint ? errors::BadRequest(options_.name, "{} is not a stream endpoint",
                                                       route.endpoint)
                                        .ToJson()
                                  : endpoint.error().detail;
      Message err = server_detail::ErrorResponse(codec->get(), route, std::move(text));
      err.header.Set("Micro-Stream", route.stream);
      (void)co_await LockedSend(*sock, *lock, err);
      co_return;
    }
    auto stream = std::make_shared<ServerStreamImpl>(
        server_detail::RequestContext(first.header, sock->Local(), sock->Remote()), sock, lock,
        *codec, route.id, route.stream, route.content_type);
    auto opening = std::make_shared<StreamOpening>(StreamOpening{route, first.header});
    // go-micro discards the opening message, except for the grpc codec.
    if ((*codec)->String() == "grpc") stream->Push(std::move(first));
    {
      std::lock_guard l(streams->mu);
      streams->open[route.stream] = {.stream = stream};
    }
    Begin();
    asio::co_spawn(sock->executor(),
                   RunStream(shared_from_this(), sock, lock, stream, *endpoint, std::move(opening),
                             std::move(streams)),
                   asio::detached);
  }

  // What stream wrappers are told about a stream (kept alive while its handler runs).
  struct StreamOpening {
    server_detail::RouteInfo route;
    Metadata header;
  };

  // The endpoint's stream handler inside the stream wrappers (first listed outermost).
  Status RunStreamHandler(const Endpoint& endpoint, ServerStreamImpl& stream,
                          const StreamOpening& opening) const {
    ServerStreamFunc fn = [&endpoint](Context& ctx, const ServerStreamRequest&, ServerStream& s) {
      return endpoint.sync_stream(ctx, s);
    };
    for (auto it = options_.stream_wrappers.rbegin(); it != options_.stream_wrappers.rend(); ++it) {
      fn = (*it)(std::move(fn));
    }
    const ServerStreamRequest req{.service = opening.route.service,
                                  .endpoint = opening.route.endpoint,
                                  .content_type = opening.route.content_type,
                                  .header = opening.header};
    return fn(stream.context(), req, stream);
  }

  static asio::awaitable<void> RunStream(
      std::shared_ptr<RpcServer> self, std::shared_ptr<Socket> sock, std::shared_ptr<SendLock> lock,
      std::shared_ptr<ServerStreamImpl> stream, const Endpoint* endpoint,
      std::shared_ptr<StreamOpening> opening, std::shared_ptr<ConnectionStreams> streams) {
    auto run = [&] { return self->RunStreamHandler(*endpoint, *stream, *opening); };
    Status status = co_await self->router_.OnPool(run, /*long_running=*/true);
    streams->HandlerDone(opening->route.stream);
    const Message last = stream->FinalMessage(status);
    (void)co_await LockedSend(*sock, *lock, last);
    self->End();
  }

  // --- registration ----------------------------------------------------------------------

  Status RegisterWithRetries() {
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(DefaultBackoff(attempt));
      last = options_.registry->Register(Registration(), {.ttl = options_.register_ttl});
      if (last) {
        registered_ = true;
        return {};
      }
    }
    return last;
  }

  // Re-registration runs on a timer of the I/O executor, not a thread of its own: each tick
  // hands the (blocking) registry call to the handler pool as long work, then re-arms.
  struct Registrar {
    explicit Registrar(asio::any_io_executor ex) : timer(std::move(ex)) {}
    std::mutex mu;
    std::condition_variable idle;
    asio::steady_timer timer;  // used under mu only
    bool stopped = false;
    bool running = false;  // a round is queued or running on the pool
  };

  void StartRegistrar() {
    if (options_.register_interval <= Duration::zero()) return;
    registrar_ = std::make_shared<Registrar>(options_.executor ? options_.executor
                                                               : options_.transport->executor());
    std::lock_guard l(registrar_->mu);
    Arm(registrar_);
  }

  // Under r->mu. The timer's handler keeps r alive; it touches the server only while r is not
  // stopped, and StopRegistrar (which Stop and the destructor run first) waits for a round.
  void Arm(const std::shared_ptr<Registrar>& r) {
    r->timer.expires_after(options_.register_interval);
    r->timer.async_wait([this, r](std::error_code ec) {
      std::lock_guard l(r->mu);
      if (ec || r->stopped) return;
      r->running = true;
      pool_.PostLong([this, r] {
        Reregister();
        std::lock_guard l2(r->mu);
        r->running = false;
        if (!r->stopped) Arm(r);
        r->idle.notify_all();
      });
    });
  }

  void StopRegistrar() {
    if (!registrar_) return;
    std::unique_lock l(registrar_->mu);
    registrar_->stopped = true;
    registrar_->timer.cancel();
    registrar_->idle.wait(l, [&] { return !registrar_->running; });
    l.unlock();
    registrar_.reset();
  }

  Status RunRegisterCheck() const {
    if (!options_.register_check) return {};
    try {
      return options_.register_check();
    } catch (const std::exception& e) {
      return errors::InternalServerError(options_.name, "register check threw: {}", e.what());
    }
  }

  void Reregister() {
    if (Status check = RunRegisterCheck(); !check) {
      if (registered_) {
        log::Warn("Server {}: register check failed, deregistering: {}", options_.name,
                  check.error());
        (void)options_.registry->Deregister(Registration());
        registered_ = false;
      }
    } else if (Status s = RegisterWithRetries(); !s) {
      log::Error("Server {}: re-register failed: {}", options_.name, s.error());
    }
  }

  ServerOptions options_;
  util::WorkerPool pool_;
  Router router_;
  server_detail::Subscribers subscribers_;

  mutable std::mutex lifecycle_mu_;
  bool started_ = false;
  std::shared_ptr<Listener> listener_;
  std::string address_;
  std::atomic<bool> registered_{false};
  std::atomic<bool> draining_{false};

  std::shared_ptr<Registrar> registrar_;  // while started with a registry

  std::atomic<std::size_t> unary_in_flight_{0};  // counted only with max_in_flight
  std::mutex inflight_mu_;
  std::condition_variable inflight_cv_;
  int inflight_ = 0;
  int connections_ = 0;        // being served; under inflight_mu_
  int peak_connections_ = 0;   // most at once since the last trim; under inflight_mu_
  int opened_since_trim_ = 0;  // under inflight_mu_
  std::shared_ptr<std::atomic<int>> trim_requests_ = std::make_shared<std::atomic<int>>(0);
  bool in_surge_ = false;  // a surge's connections are still closing; under inflight_mu_
  std::atomic<Duration::rep> last_request_{0};  // steady clock, when the last request arrived

  std::mutex sockets_mu_;
  std::vector<std::weak_ptr<Socket>> sockets_;
};

}  // namespace

Result<std::shared_ptr<Server>> NewServer(ServerOptions options) {
  if (!options.transport) return errors::BadRequest(error_ids::kServer, "a transport is required");
  if (options.handler_threads == 0) {
    options.handler_threads = std::max<std::size_t>(2, Runtime::Cpus());
  }
  return std::shared_ptr<Server>(std::make_shared<RpcServer>(std::move(options)));
}

}  // namespace micro
