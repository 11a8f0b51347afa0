// WebSocket (RFC 6455), server side, over a connection an http::Server handler took over.
//
//   reply.take_over = [](http::ByteStream& raw) -> asio::awaitable<void> {
//     auto ws = co_await http::AcceptWebSocket(raw, request_copy, {"binary"});
//     ...
//   };
//
// Handshake: AcceptWebSocket checks Upgrade/Connection/Sec-WebSocket-Key/Version 13 and writes
// the 101 with Sec-WebSocket-Accept (SHA-1 + base64 of key + RFC GUID) and the chosen
// subprotocol (the first offered one that is in `protocols`); a bad handshake gets a 400 and an
// Error. Frames: client frames must be masked (else close 1002); fragmented messages are
// reassembled up to max_message_bytes (else close 1009); pings are answered with pongs; a close
// frame is answered and ends Read with a 499-class Error "closed" carrying the peer's code.
// Text messages must be UTF-8 (else close 1007). Server frames are never masked.
//
// Threading: one WebSocket per connection strand; Read and Write may be pending at the same
// time (one of each), from coroutines on that strand.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "micro/status.h"

namespace micro::http {

struct WebSocketMessage {
  bool binary = false;
  std::string data;
};

struct WebSocketOptions {
  std::vector<std::string> protocols{};  // subprotocols we accept, in our order of preference
  std::size_t max_message_bytes = 16 * 1024 * 1024;
};

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // The next whole message. Error when the peer closed (code 499, detail has the close code),
  // on a protocol violation (400) or on a socket error (500).
  virtual asio::awaitable<Result<WebSocketMessage>> Read() = 0;
  virtual asio::awaitable<Status> Write(std::string_view data, bool binary = false) = 0;
  // Sends a close frame (once) and closes the socket.
  virtual asio::awaitable<void> Close(uint16_t code = 1000, std::string_view reason = {}) = 0;
  // The subprotocol agreed in the handshake ("" if none).
  virtual const std::string& protocol() const = 0;
};

// Completes the handshake for request on raw (which must outlive the WebSocket).
asio::awaitable<Result<std::unique_ptr<WebSocket>>> AcceptWebSocket(ByteStream& raw,
                                                                    const ServerRequest& request,
                                                                    WebSocketOptions options = {});

// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
std::string WebSocketAccept(std::string_view key);

}  // namespace micro::http
