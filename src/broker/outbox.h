// The HTTP broker's sending side. Publish queues a message; a dispatcher thread looks the
// topic's subscribers up (registry cache, service micro.http.broker) and hands one delivery
// per target to that node's lane: a coroutine that POSTs its deliveries one at a time over a
// kept-alive connection (so messages from one publisher reach a node in order).
//
// Targets, as go-micro: every node of the broadcast version (ff.http.broadcast) subscribed to
// the topic, and one random node of each queue version. A failed POST is retried with
// back-off: to the same node for a broadcast (until that node leaves the registry), to any
// member for a queue. A message nobody subscribes to is dropped, as go-micro does.
// Each topic holds at most `inbox_limit` undelivered messages; Publish returns 429 beyond.
//
// Threading: Publish and Stop may be called from any thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "micro/broker.h"
#include "micro/registry.h"

namespace micro::broker_detail {

inline constexpr std::string_view kServiceName = "micro.http.broker";
inline constexpr std::string_view kBroadcastVersion = "ff.http.broadcast";

struct OutboxOptions {
  std::size_t inbox_limit = 4096;
  Duration retry_for{0};  // zero: retry while the target is registered
  bool secure = false;
  TlsOptions tls{};
};

class Outbox {
 public:
  // lookup: where subscribers are found (normally a registry cache).
  Outbox(asio::any_io_executor ex, std::shared_ptr<Registry> lookup, OutboxOptions options);
  ~Outbox();  // Stop()
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Queues payload (a JSON broker message) for topic. 429 when the topic's inbox is full,
  // 503 after Stop.
  Status Publish(const std::string& topic, std::string payload);
  // Waits until every queued message was delivered or dropped, or timeout passed.
  void Drain(Duration timeout);
  // Stops sending; undelivered messages are dropped (logged). Idempotent.
  void Stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace micro::broker_detail
