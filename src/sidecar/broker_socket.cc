#include "sidecar/broker_socket.h"

#include <asio/experimental/awaitable_operators.hpp>
#include <atomic>

#include "api/gateway_detail.h"
#include "http/websocket.h"
#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/plugin/async_queue.h"
#include "micro/sidecar.h"
#include "sidecar/blocking.h"

namespace micro::sidecar_detail {
namespace {

// Messages waiting for a slow WebSocket client beyond this are dropped (with a log line).
constexpr std::size_t kMaxPending = 4096;

struct Outbox {
  plugin::AsyncQueue<std::string> queue;
  std::atomic<std::size_t> pending{0};
  std::atomic<bool> warned{false};
};

asio::awaitable<void> FramesToBroker(http::WebSocket& ws, BrokerSocketParts& parts,
                                     const std::string& topic, const std::string& content_type,
                                     Outbox& outbox) {
  for (;;) {
    auto frame = co_await ws.Read();
    if (!frame) break;
    Message message;
    message.header.Set("Content-Type", content_type);
    message.body = std::move(frame->data);
    auto broker = parts.broker;
    std::function<Status()> publish = [broker, topic, message = std::move(message)] {
      return broker->Publish(topic, message);
    };
    Status s = co_await OffLoop<Status>(*parts.pool, std::move(publish));
    if (!s) outbox.queue.Push(R"({"Error":)" + s.error().ToJson() + "}");
  }
  outbox.queue.Close();
}

asio::awaitable<void> BrokerToFrames(http::WebSocket& ws, Outbox& outbox) {
  bool open = true;
  for (;;) {
    std::string text;
    auto popped = co_await outbox.queue.Pop(text, Duration::zero());
    if (popped != plugin::AsyncQueue<std::string>::PopStatus::kOk) break;
    outbox.pending--;
    if (open) open = static_cast<bool>(co_await ws.Write(text, false));
  }
  if (open) co_await ws.Close(1000);
}

asio::awaitable<void> Subscribe(http::ByteStream& raw, BrokerSocketParts parts,
                                const http::ServerRequest& request, std::string topic,
                                std::string queue_name) {
  using namespace asio::experimental::awaitable_operators;
  http::WebSocketOptions ws_options;  // named: g++ 12 mishandles aggregates in co_await
  ws_options.max_message_bytes = parts.max_frame_bytes;
  auto ws = co_await http::AcceptWebSocket(raw, request, ws_options);
  if (!ws) co_return;
  std::string content_type(request.header.GetOr("Content-Type"));
  if (content_type.empty()) content_type = "text/plain";

  auto outbox = std::make_shared<Outbox>();
  broker::Handler deliver = [outbox, topic](const broker::Event& event) {
    if (outbox->pending.load() >= kMaxPending) {
      if (!outbox->warned.exchange(true)) {
        log::Warn("sidecar /broker {}: the WebSocket client is too slow, dropping messages", topic);
      }
      return Status{};
    }
    outbox->pending++;
    outbox->queue.Push(broker::ToJson(event.message));
    return Status{};
  };
  auto broker = parts.broker;
  std::function<Result<std::unique_ptr<broker::Subscriber>>()> subscribe = [broker, topic,
                                                                            queue_name, deliver] {
    return broker->Subscribe(topic, deliver, {.queue = queue_name});
  };
  auto sub = co_await OffLoop<Result<std::unique_ptr<broker::Subscriber>>>(*parts.pool,
                                                                           std::move(subscribe));
  if (!sub) {
    const std::string error_frame = R"({"Error":)" + sub.error().ToJson() + "}";
    (void)co_await (*ws)->Write(error_frame, false);
    co_await (*ws)->Close(1011, "subscribe failed");
    co_return;
  }
  co_await (FramesToBroker(**ws, parts, topic, content_type, *outbox) &&
            BrokerToFrames(**ws, *outbox));
  std::shared_ptr<broker::Subscriber> subscriber = std::move(*sub);
  std::function<Status()> unsubscribe = [subscriber] { return subscriber->Unsubscribe(); };
  (void)co_await OffLoop<Status>(*parts.pool, std::move(unsubscribe));
}

}  // namespace

asio::awaitable<http::ServerReply> ServeBroker(BrokerSocketParts parts,
                                               http::ServerRequest& request) {
  const std::string id(sidecar::kErrorId);
  std::string topic = http::QueryParam(request.target, "topic");
  if (request.method != "GET" && request.method != "POST") {
    co_return api_detail::ErrorReply(
        errors::MethodNotAllowed(id, "{} /broker: use GET (WebSocket) or POST", request.method));
  }
  if (topic.empty())
    co_return api_detail::ErrorReply(errors::BadRequest(id, "Topic not specified"));
  if (request.method == "POST") {
    Message message;
    for (const auto& [k, v] : request.header) {
      if (!EqualsIgnoreCase(k, "Content-Length") && !EqualsIgnoreCase(k, "Host") &&
          !EqualsIgnoreCase(k, "Connection")) {
        message.header.Set(k, v);
      }
    }
    message.body = std::move(request.body);
    auto broker = parts.broker;
    std::function<Status()> publish = [broker, topic, message = std::move(message)] {
      return broker->Publish(topic, message);
    };
    Status s = co_await OffLoop<Status>(*parts.pool, std::move(publish));
    if (!s) co_return api_detail::ErrorReply(s.error());
    co_return http::ServerReply{};
  }
  if (!request.WantsWebSocket()) {
    co_return api_detail::ErrorReply(errors::BadRequest(
        id,
        "GET /broker subscribes over a WebSocket: send Upgrade: websocket (or POST to "
        "publish)"));
  }
  http::ServerReply reply;
  reply.take_over = [parts, &request, topic, queue = http::QueryParam(request.target, "queue")](
                        http::ByteStream& raw) -> asio::awaitable<void> {
    co_await Subscribe(raw, parts, request, topic, queue);
  };
  co_return reply;
}

}  // namespace micro::sidecar_detail
