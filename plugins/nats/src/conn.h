// A thin C++ owner of one nats.c connection and its subscriptions, shared by the registry,
// transport and broker.
//
// Threading: every method may be called from any of our threads. Subscription handlers run on
// nats.c's own threads: they must only copy data into our queues or post work, never block
// for long, never run user code, never destroy a Subscription or the last Conn reference.
#pragma once

#include <micro/context.h>
#include <micro/runtime.h>
#include <micro/status.h>
#include <micro/transport.h>
#include <nats/nats.h>

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace micro::nats_detail {

// One received message, copied out of nats.c's buffer.
struct Msg {
  std::string subject;
  std::string reply;
  std::string data;
  bool no_responders = false;  // NATS told the requester nobody listens on the subject
};

using MsgHandler = std::function<void(Msg)>;

struct ConnOptions {
  std::vector<std::string> urls;  // normalised (see NormalizeUrls)
  Duration connect_timeout = std::chrono::seconds(2);
  Duration reconnect_wait = std::chrono::milliseconds(100);
  bool secure = false;
  TlsOptions tls{};
  std::string name = "micro-cpp";
  // Write each publish at once instead of letting nats.c's flusher batch them (about 1 ms
  // later): for request/response latency (the transport).
  bool send_asap = false;
};

// "host:port" -> "nats://host:port"; empty input -> {kDefaultUrl}; comma lists are split.
std::vector<std::string> NormalizeUrls(const std::vector<std::string>& addrs);

// Reads the common params ("nats.reconnect_wait_ms") into options.
void ApplyParams(const std::map<std::string, std::string>& params, ConnOptions& options);

// Error for a failed nats.c call: 503 when not connected, else 500.
Error NatsError(std::string_view error_id, natsStatus status, std::string_view what);

class Conn;

// An asynchronous subscription. Close() (or the destructor) unsubscribes and waits until a
// handler already running has returned, so the handler's captures may go away afterwards.
class Subscription {
 public:
  ~Subscription() { Close(); }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  void Close();
  const std::string& subject() const { return subject_; }

 private:
  friend class Conn;
  struct Box;
  Subscription() = default;
  std::shared_ptr<Conn> conn_;
  natsSubscription* sub_ = nullptr;
  std::future<void> done_;
  std::string subject_;
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  // Connects (blocking up to connect_timeout); after that, reconnects forever on its own.
  static Result<std::shared_ptr<Conn>> Connect(const ConnOptions& options,
                                               std::string_view error_id);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Status Publish(const std::string& subject, std::string_view data, const std::string& reply = {});
  // queue non-empty: a queue subscription.
  Result<std::unique_ptr<Subscription>> Subscribe(const std::string& subject,
                                                  const std::string& queue, MsgHandler handler);
  // A fresh "_INBOX.<nuid>" subject.
  static std::string NewInbox();
  Status Flush(Duration timeout);
  bool Connected();
  std::string error_id() const { return error_id_; }

 private:
  Conn() = default;
  natsConnection* nc_ = nullptr;
  natsOptions* opts_ = nullptr;

  std::string error_id_;
};

// Connects on first use, then keeps the connection. Thread-safe.
class LazyConn {
 public:
  LazyConn(ConnOptions options, std::string error_id)
      : options_(std::move(options)), error_id_(std::move(error_id)) {}
  Result<std::shared_ptr<Conn>> Get();
  const ConnOptions& options() const { return options_; }

 private:
  ConnOptions options_;
  std::string error_id_;
  std::mutex mu_;
  std::shared_ptr<Conn> conn_;
};

// True on a thread that is running one of our subscription handlers.
bool InNatsCallback();

// A one-thread Runtime for parts given no executor. Its last owner may be a coroutine on the
// runtime's own thread: then it is stopped and joined from a short-lived helper thread.
std::shared_ptr<Runtime> OwnRuntime();

}  // namespace micro::nats_detail
