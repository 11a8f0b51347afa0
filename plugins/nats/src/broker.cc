// The "nats" broker (go-micro's broker/nats): Publish is a NATS publish of the JSON message;
// Subscribe is a NATS subscription, a queue subscription when a queue is named.
#include <micro/logger.h>

#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <list>

#include "conn.h"
#include "micro/nats/nats.h"
#include "micro/plugin/io.h"

namespace micro::nats {
namespace {

using nats_detail::Conn;
using nats_detail::Msg;
using nats_detail::Subscription;

// Not a std::string: io threads may still build errors while static destructors run at exit.
constexpr const char* kBrokerErrorId = broker::kErrorId.data();

Error NotConnected() { return errors::New(kBrokerErrorId, "not connected", 503); }

// Topics: NATS subjects (subscriptions may use the * and > wildcards).
bool ValidTopic(std::string_view t, bool wildcards) {
  if (t.empty() || t.front() == '.' || t.back() == '.') return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= t.size(); ++i) {
    if (i == t.size() || t[i] == '.') {
      const auto token = t.substr(start, i - start);
      if (token.empty()) return false;
      if (!wildcards && (token == "*" || token == ">")) return false;
      start = i + 1;
    } else if (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n') {
      return false;
    }
  }
  return true;
}

// One subscription's delivery state, shared by the nats.c handler, the handler threads, the
// Subscriber and the broker (for Disconnect).
class SubCore : public std::enable_shared_from_this<SubCore> {
 public:
  // Messages handed to handler threads but not yet handled: beyond this the nats.c thread
  // waits (and nats.c's own pending limit, then its slow-consumer drop, takes over).
  static constexpr int kMaxInFlight = 1024;

  SubCore(std::string topic, broker::SubscribeOptions options, broker::Handler handler,
          std::function<void(const broker::Event&, const Error&)> on_error,
          asio::any_io_executor strand)
      : topic_(std::move(topic)),
        options_(std::move(options)),
        handler_(std::move(handler)),
        on_error_(std::move(on_error)),
        strand_(std::move(strand)) {}

  const std::string& topic() const { return topic_; }
  const broker::SubscribeOptions& options() const { return options_; }

  void Attach(std::unique_ptr<Subscription> sub) {
    std::lock_guard lock(sub_mu_);
    sub_ = std::move(sub);
  }

  // On a nats.c thread: decode, then hand over to the handler threads.
  void OnMessage(Msg m) {
    auto msg = broker::MessageFromJson(m.data);
    if (!msg) {
      log::Warn("broker: dropped an undecodable message on {}: {}", m.subject, msg.error());
      return;
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopped_ || in_flight_ < kMaxInFlight; });
      if (stopped_) return;
      ++in_flight_;
    }
    broker::Event ev;
    ev.topic = std::move(m.subject);
    ev.message = std::move(*msg);
    asio::post(strand_, [self = shared_from_this(), ev = std::move(ev)] { self->Run(ev); });
  }

  // Stops delivery; waits for a running handler unless called from one of ours.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      cv_.notify_all();
    }
    std::unique_ptr<Subscription> gone;
    {
      std::lock_guard lock(sub_mu_);
      gone = std::move(sub_);
    }
    gone.reset();  // no more nats.c callbacks after this
    if (current_ == this) return;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return running_ == 0; });
  }

 private:
  void Run(const broker::Event& ev) {
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      cv_.notify_all();
      if (stopped_) return;
      ++running_;
    }
    current_ = this;
    Status st;
    try {
      st = handler_(ev);
    } catch (const std::exception& e) {
      st = errors::InternalServerError(kBrokerErrorId, "handler threw: {}", e.what());
    }
    current_ = nullptr;
    if (!st) {
      log::Error("broker: handler for {} failed: {}", ev.topic, st.error());
      if (on_error_) on_error_(ev, st.error());
    }
    std::lock_guard lock(mu_);
    --running_;
    cv_.notify_all();
  }

  static thread_local SubCore* current_;

  std::string topic_;
  broker::SubscribeOptions options_;
  broker::Handler handler_;
  std::function<void(const broker::Event&, const Error&)> on_error_;
  asio::any_io_executor strand_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  int in_flight_ = 0;
  int running_ = 0;
  std::mutex sub_mu_;
  std::unique_ptr<Subscription> sub_;
};

thread_local SubCore* SubCore::current_ = nullptr;

class NatsSubscriber final : public broker::Subscriber {
 public:
  explicit NatsSubscriber(std::shared_ptr<SubCore> core) : core_(std::move(core)) {}
  ~NatsSubscriber() override { (void)Unsubscribe(); }
  const std::string& Topic() const override { return core_->topic(); }
  const broker::SubscribeOptions& Options() const override { return core_->options(); }
  Status Unsubscribe() override {
    core_->Stop();
    return {};
  }

 private:
  std::shared_ptr<SubCore> core_;
};

class NatsBroker final : public Broker {
 public:
  explicit NatsBroker(BrokerOptions options) : options_(std::move(options)) {
    conn_options_.urls = nats_detail::NormalizeUrls(options_.addrs);
    conn_options_.secure = options_.secure;
    conn_options_.tls = options_.tls;
    nats_detail::ApplyParams(options_.params, conn_options_);
    int threads = 4;
    if (auto it = options_.params.find("nats.handler_threads"); it != options_.params.end()) {
      const auto& v = it->second;
      int n = 0;
      if (std::from_chars(v.data(), v.data() + v.size(), n).ec == std::errc{} && n > 0) {
        threads = n;
      }
    }
    pool_ = std::make_unique<asio::thread_pool>(threads);
  }

  ~NatsBroker() override {
    (void)Disconnect();
    pool_->join();
  }

  Status Connect() override {
    std::lock_guard lock(mu_);
    if (conn_) return {};
    auto c = Conn::Connect(conn_options_, kBrokerErrorId);
    if (!c) return std::move(c).error();
    conn_ = *c;
    return {};
  }

  Status Disconnect() override {
    std::shared_ptr<Conn> conn;
    std::list<std::weak_ptr<SubCore>> subs;
    {
      std::lock_guard lock(mu_);
      conn = std::move(conn_);
      subs.swap(subs_);
    }
    for (auto& w : subs) {
      if (auto s = w.lock()) s->Stop();
    }
    if (conn) (void)conn->Flush(std::chrono::seconds(2));  // what was published goes out
    return {};
  }

  std::string Address() const override {
    std::lock_guard lock(mu_);
    return conn_ ? conn_options_.urls.front() : std::string();
  }

  Status Publish(std::string_view topic, const Message& message,
                 const broker::PublishOptions&) override {
    if (!ValidTopic(topic, false)) {
      return errors::BadRequest(kBrokerErrorId, "not a NATS subject: \"{}\"", topic);
    }
    auto conn = Current();
    if (!conn) return NotConnected();
    return conn->Publish(std::string(topic), broker::ToJson(message));
  }

  Result<std::unique_ptr<broker::Subscriber>> Subscribe(
      std::string_view topic, broker::Handler handler,
      const broker::SubscribeOptions& options) override {
    if (!ValidTopic(topic, true)) {
      return errors::BadRequest(kBrokerErrorId, "not a NATS subject: \"{}\"", topic);
    }
    if (!handler) return errors::BadRequest(kBrokerErrorId, "no handler");
    auto conn = Current();
    if (!conn) return NotConnected();
    auto core = std::make_shared<SubCore>(std::string(topic), options, std::move(handler),
                                          options_.error_handler,
                                          plugin::MakeStrand(pool_->get_executor()));
    // The nats.c handler may use the raw pointer: the core closes its Subscription (waiting
    // for a running handler) in Stop(), which every path runs before the core can go.
    auto sub = conn->Subscribe(std::string(topic), options.queue,
                               [raw = core.get()](Msg m) { raw->OnMessage(std::move(m)); });
    if (!sub) return std::move(sub).error();
    core->Attach(std::move(*sub));
    // Subscribed for real once the server has the SUB: a publish right after is delivered.
    if (Status s = conn->Flush(std::chrono::seconds(5)); !s) {
      core->Stop();
      return std::move(s).error();
    }
    {
      std::lock_guard lock(mu_);
      std::erase_if(subs_, [](const std::weak_ptr<SubCore>& w) { return w.expired(); });
      subs_.push_back(core);
    }
    return std::unique_ptr<broker::Subscriber>(std::make_unique<NatsSubscriber>(core));
  }

  const BrokerOptions& Options() const override { return options_; }
  std::string String() const override { return "nats"; }

 private:
  std::shared_ptr<Conn> Current() const {
    std::lock_guard lock(mu_);
    return conn_;
  }

  BrokerOptions options_;
  nats_detail::ConnOptions conn_options_;
  std::unique_ptr<asio::thread_pool> pool_;
  mutable std::mutex mu_;
  std::shared_ptr<Conn> conn_;
  std::list<std::weak_ptr<SubCore>> subs_;
};

}  // namespace

Result<std::shared_ptr<Broker>> NewBroker(BrokerOptions options) {
  return std::shared_ptr<Broker>(std::make_shared<NatsBroker>(std::move(options)));
}

}  // namespace micro::nats
