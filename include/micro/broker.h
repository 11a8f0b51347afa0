// micro::Broker: asynchronous messages between services, as go-micro's broker.
//
//   auto b = micro::Brokers().Create("http", {.registry = registry});   // or "memory", "nats"
//   (*b)->Connect();
//   auto sub = (*b)->Subscribe("events", [](const micro::broker::Event& e) {
//     std::cout << e.topic << ": " << e.message.body << "\n";
//     return micro::Status{};                                           // or an Error
//   }, {.queue = "audit"});                                             // queue: one member each
//   (*b)->Publish("events", {.header = {{"Id", "1"}}, .body = "created"});
//   (*sub)->Unsubscribe();
//
// Built-in brokers: "http" (the default; go-micro's HTTP broker on the wire: subscribers
// register service `micro.http.broker` in the registry and receive JSON messages by HTTP POST)
// and "memory" (in-process). Plugins add more (e.g. "nats").
//
// Delivery: without a queue every subscription of a topic gets each message (broadcast);
// subscriptions sharing a queue name share the messages, each message going to one member.
//
// Threading: every method may be called from any thread. Handlers run on the broker's own
// delivery threads (never on the publisher's thread for "http"; on it for "memory", as
// go-micro), may block, and may be called concurrently for different messages.
// Ownership: brokers are shared (std::shared_ptr); a Subscriber is owned by its caller and
// unsubscribes when destroyed. Disconnect() ends every subscription.
// Errors: Status/Result with a micro::Error, id "go.micro.broker": 503 "not connected",
// 400 for bad topics/messages, 429 when a bounded inbox is full, 500 for I/O failures.
// A handler's error goes to BrokerOptions::error_handler (and is logged); it never stops
// delivery to other subscribers.
#pragma once

#include <micro/context.h>
#include <micro/plugin.h>
#include <micro/status.h>
#include <micro/transport.h>

#include <asio/any_io_executor.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace micro {

class Registry;

namespace broker {

// The error id of broker failures.
inline constexpr std::string_view kErrorId = error_ids::kBroker;

// go-micro's broker.Message {Header, Body} is micro::Message; its JSON form is
// {"Header":{"k":"v"},"Body":"<base64>"} (Go's encoding of map[string]string and []byte).
std::string ToJson(const Message& message);
// Parses that JSON (keys case-insensitive, as Go; null Header/Body accepted). 400 on bad input.
Result<Message> MessageFromJson(std::string_view json);

// One delivered message.
struct Event {
  std::string topic;
  Message message;
  // Acknowledges the message (brokers with acknowledgements, when auto_ack is off);
  // a no-op returning ok for "http" and "memory". Never empty.
  std::function<Status()> ack = [] { return Status{}; };
};

// Returns ok, or an Error that is reported through BrokerOptions::error_handler.
using Handler = std::function<Status(const Event&)>;

struct SubscribeOptions {
  std::string queue{};   // empty: broadcast; else one member of the queue gets each message
  bool auto_ack = true;  // ack after the handler returns ok
};

struct PublishOptions {
  Context context{};  // reserved for brokers that honour deadlines (nats); unused by http
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual const std::string& Topic() const = 0;
  virtual const SubscribeOptions& Options() const = 0;
  // Stops delivery (and deregisters, for "http"). Idempotent.
  virtual Status Unsubscribe() = 0;
};

}  // namespace broker

struct BrokerOptions {
  // http: the address to listen on (default "127.0.0.1:0"; "host:port", ":port" binds all
  // interfaces). nats: server URLs. memory: unused. The service fills it from
  // --broker_address / MICRO_BROKER_ADDRESS.
  std::vector<std::string> addrs{};
  bool secure = false;  // http: TLS (self-signed unless tls says otherwise)
  TlsOptions tls{};
  // http: where subscribers register and publishers look them up. Required for "http". A
  // RegistryCache (NewCache) is used for lookups as it is, shared (a Service passes the cache
  // its client's selector uses); any other registry gets a cache of the broker's own.
  std::shared_ptr<Registry> registry{};
  // Called (on a delivery thread) when a handler returns an error.
  std::function<void(const broker::Event&, const Error&)> error_handler{};
  // http: messages a publisher holds for one topic while they cannot be delivered; Publish
  // returns 429 when full. go-micro keeps 64 and drops the oldest silently; we refuse instead.
  std::size_t inbox_limit = 4096;
  // http: how long an undeliverable message is retried before it is dropped (with an error
  // log); zero: until the broker disconnects.
  Duration retry_for{0};
  // http: how long Disconnect waits for queued messages to be delivered.
  Duration drain_timeout = std::chrono::seconds(5);
  // http: the registry TTL of subscriber nodes and how often they re-register (go-micro's).
  Duration register_ttl = std::chrono::minutes(1);
  Duration register_interval = std::chrono::seconds(30);
  // Executor for network I/O. Empty: the broker runs its own io_context thread.
  asio::any_io_executor executor{};
  // Implementation-specific settings, e.g. "nats.drain".
  std::map<std::string, std::string> params{};
};

class Broker {
 public:
  virtual ~Broker() = default;
  // http: binds the listener (Address() is final afterwards). Idempotent.
  virtual Status Connect() = 0;
  // Ends every subscription and stops delivery. http: first waits up to drain_timeout for
  // queued messages to be delivered; what is still queued then is dropped with a log line.
  virtual Status Disconnect() = 0;
  // "host:port" the broker listens on (http), or its server (nats); empty before Connect().
  virtual std::string Address() const = 0;
  // Queues (http) or sends the message to the topic. Does not wait for subscribers.
  virtual Status Publish(std::string_view topic, const Message& message,
                         const broker::PublishOptions& options) = 0;
  Status Publish(std::string_view topic, const Message& message) {
    return Publish(topic, message, {});
  }
  virtual Result<std::unique_ptr<broker::Subscriber>> Subscribe(
      std::string_view topic, broker::Handler handler, const broker::SubscribeOptions& options) = 0;
  Result<std::unique_ptr<broker::Subscriber>> Subscribe(std::string_view topic,
                                                        broker::Handler handler) {
    return Subscribe(topic, std::move(handler), {});
  }
  virtual const BrokerOptions& Options() const = 0;
  virtual std::string String() const = 0;  // "http", "memory", ...
};

// The named broker table: "http" and "memory" are built in.
plugin::Registry<Broker, BrokerOptions>& Brokers();

// In-process broker (name "memory"): Publish calls every subscriber of the topic on the
// publisher's thread (one member per queue, round robin). Publish before Connect is a 503.
Result<std::shared_ptr<Broker>> NewMemoryBroker(BrokerOptions options = {});
// go-micro's HTTP broker (name "http"). Fails (400) without options.registry.
Result<std::shared_ptr<Broker>> NewHttpBroker(BrokerOptions options = {});

}  // namespace micro
