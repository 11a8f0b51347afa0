// Stream endpoints over WebSocket (go-micro's rpc handler): each frame from the browser is
// one JSON message to the service, each message from the service one frame back.
//
// ClientStream is blocking, so one worker thread per WebSocket opens the stream and sends,
// and a second one receives; they talk to the connection's coroutines through queues. The
// coroutines never block and never join a thread that may still be working.
#include <asio/experimental/awaitable_operators.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "api/gateway_detail.h"
#include "http/websocket.h"
#include "micro/codec.h"
#include "micro/plugin/async_queue.h"
#include "util/worker_pool.h"

namespace micro::api_detail {
namespace {

struct FromService {
  enum Kind { kData, kEnd, kFinished } kind = kData;
  std::string data{};
  Status status{};
};

// What the coroutines and the two threads share.
struct Bridge {
  std::shared_ptr<Client> client;
  api::Route route;
  Metadata metadata;

  plugin::AsyncQueue<FromService> from_service;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::optional<std::string>> to_service;  // nullopt: the browser is done (EOS)

  void Send(std::optional<std::string> item) {
    {
      std::lock_guard lock(mu);
      to_service.push_back(std::move(item));
    }
    cv.notify_one();
  }

  std::optional<std::string> NextToSend() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !to_service.empty(); });
    auto item = std::move(to_service.front());
    to_service.pop_front();
    return item;
  }

  // The worker: open, send until EOS, then wait for the receiver and close.
  void Run() {
    util::SetThreadName("micro-api-ws");
    Context ctx;
    ctx.metadata() = metadata;
    codec::Frame opening{"{}"};
    ClientRequest req{route.service, route.endpoint, "application/json", &opening};
    CallOptions opts;
    opts.content_type = "application/json";
    auto opened = client->Stream(ctx, req, opts);
    if (!opened) {
      from_service.Push({FromService::kEnd, "", std::move(opened).error()});
      from_service.Push({FromService::kFinished});
      return;
    }
    std::unique_ptr<ClientStream> stream = std::move(*opened);
    std::thread receiver([this, s = stream.get()] {
      util::SetThreadName("micro-api-ws");
      codec::Frame frame;
      while (s->RecvFrame(frame)) from_service.Push({FromService::kData, std::move(frame.data)});
      from_service.Push({FromService::kEnd, "", s->status()});
    });
    for (;;) {
      auto item = NextToSend();
      if (!item) {
        (void)stream->CloseSend();
        break;
      }
      codec::Frame frame{std::move(*item)};
      if (!stream->SendFrame(frame)) break;
    }
    receiver.join();
    (void)stream->Close();
    from_service.Push({FromService::kFinished});
  }
};

asio::awaitable<void> BrowserToService(http::WebSocket& ws, Bridge& bridge) {
  for (;;) {
    auto msg = co_await ws.Read();
    if (!msg) break;
    bridge.Send(std::move(msg->data));
  }
  bridge.Send(std::nullopt);
}

asio::awaitable<void> ServiceToBrowser(http::WebSocket& ws, Bridge& bridge, bool binary) {
  bool open = true;
  for (;;) {
    FromService item;
    auto popped = co_await bridge.from_service.Pop(item, std::chrono::hours(24 * 365));
    if (popped != plugin::AsyncQueue<FromService>::PopStatus::kOk) break;
    if (item.kind == FromService::kFinished) break;
    if (item.kind == FromService::kData && open) {
      open = static_cast<bool>(co_await ws.Write(item.data, binary));
    } else if (item.kind == FromService::kEnd && open) {
      if (!item.status) {
        const std::string error_json = item.status.error().ToJson();  // named: see Call
        (void)co_await ws.Write(error_json, false);
      }
      const uint16_t code = item.status ? 1000 : 1011;
      co_await ws.Close(code);
      open = false;
    }
  }
  if (open) co_await ws.Close(1000);
}

asio::awaitable<void> BridgeStream(http::ByteStream& raw, std::shared_ptr<GatewayState> state,
                                   std::shared_ptr<http::ServerRequest> request, api::Route route) {
  using namespace asio::experimental::awaitable_operators;
  http::WebSocketOptions ws_options;  // named: g++ 12 mishandles aggregates in co_await
  ws_options.protocols = {"binary"};
  auto ws = co_await http::AcceptWebSocket(raw, *request, ws_options);
  if (!ws) co_return;
  const bool binary = (*ws)->protocol() == "binary";
  auto bridge = std::make_shared<Bridge>();
  bridge->client = state->parts.client;
  bridge->route = route;
  bridge->metadata = MetadataFrom(*request);
  std::thread worker([bridge] { bridge->Run(); });
  co_await (BrowserToService(**ws, *bridge) && ServiceToBrowser(**ws, *bridge, binary));
  worker.join();  // it has pushed kFinished: nothing left for it to do but return
}

}  // namespace

http::ServerReply ServeStream(std::shared_ptr<GatewayState> state, http::ServerRequest& request,
                              const api::Route& route) {
  http::ServerReply reply;
  reply.take_over = [state, req = std::make_shared<http::ServerRequest>(request),
                     route](http::ByteStream& raw) -> asio::awaitable<void> {
    co_await BridgeStream(raw, state, req, route);
  };
  return reply;
}

}  // namespace micro::api_detail
