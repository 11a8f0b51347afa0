// /broker: pub/sub for the parent app over a WebSocket (and one-shot publishes by POST).
#pragma once

#include <asio/awaitable.hpp>
#include <memory>

#include "http/server.h"
#include "micro/broker.h"
#include "util/worker_pool.h"

namespace micro::sidecar_detail {

struct BrokerSocketParts {
  std::shared_ptr<Broker> broker;
  std::shared_ptr<util::WorkerPool> pool;  // publishes and subscriptions (they may block)
  std::size_t max_frame_bytes = 1024 * 1024;
};

// GET with a WebSocket upgrade: subscribe (topic, queue) and publish each frame; POST: publish
// the body. 400 without a topic, 405 for other methods.
asio::awaitable<http::ServerReply> ServeBroker(BrokerSocketParts parts,
                                               http::ServerRequest& request);

}  // namespace micro::sidecar_detail
