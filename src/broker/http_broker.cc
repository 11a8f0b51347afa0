// go-micro's HTTP broker: subscribers register micro.http.broker nodes and receive messages as
// JSON POSTs; publishers look the nodes up and POST to them (outbox.h).
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "broker/errors.h"
#include "broker/outbox.h"
#include "http/server.h"
#include "micro/broker.h"
#include "micro/logger.h"
#include "micro/registry.h"
#include "micro/util.h"
#include "transport/runtime.h"
#include "util/advertise.h"
#include "util/worker_pool.h"

namespace micro {
namespace {

// A registry cache is used as it is (shared); any other registry gets one of its own.
std::shared_ptr<Registry> CacheOf(const std::shared_ptr<Registry>& registry) {
  if (std::dynamic_pointer_cast<RegistryCache>(registry)) return registry;
  return *NewCache(registry);
}

struct HttpSub {
  std::string id;  // registry node id: "<topic>-<broker id>" (a suffix when taken)
  std::string topic;
  broker::SubscribeOptions options;
  broker::Handler handler;
};

http::ServerReply ErrorReply(int status, const Error& error) {
  return {
      .status = status, .header = {{"Content-Type", "application/json"}}, .body = error.ToJson()};
}

class HttpBroker;

class HttpSubscriber final : public broker::Subscriber {
 public:
  HttpSubscriber(std::weak_ptr<HttpBroker> broker, std::shared_ptr<HttpSub> sub)
      : broker_(std::move(broker)), sub_(std::move(sub)) {}
  ~HttpSubscriber() override { (void)Unsubscribe(); }
  const std::string& Topic() const override { return sub_->topic; }
  const broker::SubscribeOptions& Options() const override { return sub_->options; }
  Status Unsubscribe() override;

 private:
  std::weak_ptr<HttpBroker> broker_;
  std::shared_ptr<HttpSub> sub_;
  bool done_ = false;
};

class HttpBroker final : public Broker, public std::enable_shared_from_this<HttpBroker> {
 public:
  explicit HttpBroker(BrokerOptions options)
      : options_(std::move(options)),
        id_(NewUuid()),
        lookup_(CacheOf(options_.registry)),
        handlers_(std::max(2u, std::thread::hardware_concurrency()), "micro-broker") {}

  ~HttpBroker() override {
    (void)Disconnect();
    handlers_.Join();
  }

  Status Connect() override {
    std::lock_guard lock(mu_);
    if (connected_) return {};
    asio::any_io_executor ex = options_.executor;
    if (!ex) {
      io_ = plugin::IoThread::Create();
      ex = io_->executor();
    }
    http::ServerOptions so;
    so.address = options_.addrs.empty() ? "127.0.0.1:0" : options_.addrs.front();
    so.secure = options_.secure;
    so.tls = options_.tls;
    so.error_id = std::string(broker::kErrorId);
    std::weak_ptr<HttpBroker> weak = weak_from_this();
    auto receiver = http::Server::Start(
        ex, so, [weak](http::ServerRequest& r) -> asio::awaitable<http::ServerReply> {
          auto self = weak.lock();
          if (!self) co_return ErrorReply(503, broker::NotConnected());
          co_return co_await self->Receive(r);
        });
    if (!receiver) return std::move(receiver).error();
    receiver_ = *receiver;
    address_ = receiver_->Addr();
    advertise_ = util::AdvertiseAddress(address_, "");
    outbox_ = std::make_unique<broker_detail::Outbox>(
        ex, lookup_,
        broker_detail::OutboxOptions{.inbox_limit = options_.inbox_limit,
                                     .retry_for = options_.retry_for,
                                     .secure = options_.secure,
                                     .tls = options_.tls});
    stop_registrar_ = false;
    registrar_ = std::thread([this] {
      util::SetThreadName("micro-bk-reg");
      RunRegistrar();
    });
    connected_ = true;
    log::Info("Broker [http] Connected to {}", address_);
    return {};
  }

  Status Disconnect() override {
    std::unique_lock lock(mu_);
    if (!connected_) return {};
    connected_ = false;
    stop_registrar_ = true;
    registrar_cv_.notify_all();
    std::map<std::string, std::shared_ptr<HttpSub>> subs;
    subs.swap(subs_);
    // Released here rather than in the destructor: their sockets belong to the executor, which
    // may be a Service's and gone by the time the last copy of this broker is.
    auto outbox = std::move(outbox_);
    auto receiver = std::move(receiver_);
    lock.unlock();
    registrar_.join();
    Status result;
    for (auto& [id, sub] : subs) {
      if (Status s = options_.registry->Deregister(Registration(*sub)); !s) result = s;
    }
    outbox->Drain(options_.drain_timeout);
    outbox->Stop();
    receiver->Close();
    return result;
  }

  std::string Address() const override {
    std::lock_guard lock(mu_);
    return address_;
  }

  Status Publish(std::string_view topic, const Message& message,
                 const broker::PublishOptions&) override {
    if (Status s = broker::CheckTopic(topic); !s) return s;
    Message copy = message;
    copy.header.Set("Micro-Topic", std::string(topic));
    std::string payload = broker::ToJson(copy);
    std::lock_guard lock(mu_);
    if (!connected_) return broker::NotConnected();
    return outbox_->Publish(std::string(topic), std::move(payload));
  }

  Result<std::unique_ptr<broker::Subscriber>> Subscribe(
      std::string_view topic, broker::Handler handler,
      const broker::SubscribeOptions& options) override {
    if (Status s = broker::CheckTopic(topic); !s) return std::move(s).error();
    if (!handler) return errors::BadRequest(std::string(broker::kErrorId), "no handler");
    auto sub = std::make_shared<HttpSub>();
    sub->topic = std::string(topic);
    sub->options = options;
    sub->handler = std::move(handler);
    {
      std::lock_guard lock(mu_);
      if (!connected_) return broker::NotConnected();
      sub->id = UnusedId(sub->topic);
      subs_[sub->id] = sub;
    }
    if (Status s = options_.registry->Register(Registration(*sub), {.ttl = options_.register_ttl});
        !s) {
      std::lock_guard lock(mu_);
      subs_.erase(sub->id);
      return std::move(s).error();
    }
    return std::unique_ptr<broker::Subscriber>(
        std::make_unique<HttpSubscriber>(weak_from_this(), std::move(sub)));
  }

  Status Remove(const HttpSub& sub) {
    {
      std::lock_guard lock(mu_);
      auto it = subs_.find(sub.id);
      if (it == subs_.end() || it->second.get() != &sub) return {};  // already disconnected
      subs_.erase(it);
    }
    return options_.registry->Deregister(Registration(sub));
  }

  const BrokerOptions& Options() const override { return options_; }
  std::string String() const override { return "http"; }

 private:
  // go-micro's registration of one subscriber.
  registry::Service Registration(const HttpSub& sub) const {
    registry::Node node{.id = sub.id,
                        .address = advertise_,
                        .metadata = {{"secure", options_.secure ? "true" : "false"},
                                     {"broker", "http"},
                                     {"topic", sub.topic}}};
    return {.name = std::string(broker_detail::kServiceName),
            .version = sub.options.queue.empty() ? std::string(broker_detail::kBroadcastVersion)
                                                 : sub.options.queue,
            .nodes = {std::move(node)}};
  }

  // Under mu_.
  std::string UnusedId(const std::string& topic) const {
    std::string id = topic + "-" + id_;
    for (int n = 2; subs_.count(id) > 0; ++n) id = fmt::format("{}-{}-{}", topic, id_, n);
    return id;
  }

  // A POST from a publisher: go-micro's checks, then the subscriber's handler on the pool.
  asio::awaitable<http::ServerReply> Receive(http::ServerRequest& request) {
    if (request.method != "POST") {
      co_return ErrorReply(
          405, errors::MethodNotAllowed(std::string(broker::kErrorId), "Method not allowed"));
    }
    auto message = broker::MessageFromJson(request.body);
    if (!message) co_return ErrorReply(400, message.error());
    auto topic = message->header.Get("Micro-Topic");
    if (!topic || topic->empty()) {
      co_return ErrorReply(400,
                           errors::BadRequest(std::string(broker::kErrorId), "Topic not found"));
    }
    const std::string id = http::QueryParam(request.target, "id");
    std::shared_ptr<HttpSub> sub;
    {
      std::lock_guard lock(mu_);
      if (auto it = subs_.find(id); it != subs_.end() && it->second->topic == *topic) {
        sub = it->second;
      }
    }
    if (!sub) {
      // go-micro answers 200 and drops it; a 404 lets the publisher retry elsewhere.
      co_return ErrorReply(404, errors::NotFound(std::string(broker::kErrorId),
                                                 "no subscriber {} for topic {}", id, *topic));
    }
    broker::Event event{.topic = std::string(*topic), .message = std::move(*message)};
    // One post to the pool (its threads start on first delivery) and one back here.
    Status result = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(
        [this, &sub, &event](auto handler) {
          handlers_.Post([this, &sub, &event, handler = std::move(handler)]() mutable {
            Status s = Deliver(*sub, event);
            const auto ex = asio::get_associated_executor(handler);
            asio::post(ex, [handler = std::move(handler), s = std::move(s)]() mutable {
              std::move(handler)(std::move(s));
            });
          });
        },
        asio::use_awaitable);
    (void)result;
    co_return http::ServerReply{};
  }

  // On a handler thread. Errors go to the error handler; the message counts as delivered.
  Status Deliver(const HttpSub& sub, const broker::Event& event) {
    Status result;
    try {
      result = sub.handler(event);
    } catch (const std::exception& e) {
      result = errors::InternalServerError(std::string(broker::kErrorId), e.what());
    }
    if (!result) {
      log::Error("Broker http: subscriber of {} failed: {}", event.topic, result.error());
      if (options_.error_handler) options_.error_handler(event, result.error());
    }
    return result;
  }

  void RunRegistrar() {
    std::unique_lock lock(mu_);
    while (!registrar_cv_.wait_for(lock, options_.register_interval,
                                   [&] { return stop_registrar_; })) {
      std::vector<std::shared_ptr<HttpSub>> subs;
      for (auto& [id, sub] : subs_) subs.push_back(sub);
      lock.unlock();
      for (auto& sub : subs) {
        if (Status s =
                options_.registry->Register(Registration(*sub), {.ttl = options_.register_ttl});
            !s) {
          log::Error("Broker http: re-register of {} failed: {}", sub->id, s.error());
        }
      }
      lock.lock();
    }
  }

  BrokerOptions options_;
  const std::string id_;
  // Registry cache for publishing: the one it was given (a Service's, shared with its client),
  // else its own.
  std::shared_ptr<Registry> lookup_;
  util::WorkerPool handlers_;  // starts threads only when a message arrives

  mutable std::mutex mu_;
  bool connected_ = false;
  std::shared_ptr<plugin::IoThread> io_;
  std::shared_ptr<http::Server> receiver_;
  std::unique_ptr<broker_detail::Outbox> outbox_;
  std::string address_;
  std::string advertise_;
  std::map<std::string, std::shared_ptr<HttpSub>> subs_;  // by node id

  std::thread registrar_;
  std::condition_variable registrar_cv_;
  bool stop_registrar_ = false;
};

Status HttpSubscriber::Unsubscribe() {
  if (done_) return {};
  done_ = true;
  if (auto broker = broker_.lock()) return broker->Remove(*sub_);
  return {};
}

}  // namespace

Result<std::shared_ptr<Broker>> NewHttpBroker(BrokerOptions options) {
  if (!options.registry) {
    return errors::BadRequest(std::string(broker::kErrorId),
                              "the http broker needs a registry (BrokerOptions::registry)");
  }
  return std::shared_ptr<Broker>(std::make_shared<HttpBroker>(std::move(options)));
}

}  // namespace micro
