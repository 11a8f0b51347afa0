// WebSocket (RFC 6455), server side, over a connection an http::Server handler took over.
//
//   reply.take_over = [&request, options](http::ByteStream& raw) -> asio::awaitable<void> {
//     auto ws = co_await http::AcceptWebSocket(raw, request, options);
//     if (!ws.ok()) co_return;  // the 400 is written
//     while (auto m = co_await (*ws)->Read()) ...
//   };
//
// (The handler's ServerRequest stays valid until take_over returns: capturing it by reference
// is fine. Build the options outside the coroutine: g++ 12 rejects `{.protocols = {"binary"}}`
// written inside one with "array used as initializer".)
//
// Handshake: AcceptWebSocket checks GET, Upgrade/Connection, Sec-WebSocket-Key (16 bytes in
// base64) and Version 13, and writes the 101 with Sec-WebSocket-Accept (SHA-1 + base64 of key +
// RFC GUID) and the chosen subprotocol (the first of `protocols` that the client offers: our
// preference wins, as gorilla/websocket); a bad handshake gets a 400 and an Error. Frames:
// client frames must be masked (else close 1002); fragmented messages are reassembled up to
// max_message_bytes (else close 1009); pings are answered with pongs; a close frame is answered
// and ends Read with an Error of code 499 whose detail is "closed <code>[: <reason>]" (the code
// is also close_code()); the peer going away without one counts as "closed 1006". Text
// messages must be UTF-8 (else close 1007). Server frames are never masked and never
// fragmented. After we close (Close or a protocol error) we wait up to a second for the peer's
// close frame or end of stream before closing the socket, so our close frame is not lost.
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
  // on a protocol violation (400; we sent the close frame) or on a socket error (500). Every
  // Read after the end returns the same Error.
  virtual asio::awaitable<Result<WebSocketMessage>> Read() = 0;
  virtual asio::awaitable<Status> Write(std::string_view data, bool binary = false) = 0;
  // Sends a close frame (once), waits (up to 1 s, unless a Read is pending) for the peer's, and
  // closes the socket.
  virtual asio::awaitable<void> Close(uint16_t code = 1000, std::string_view reason = {}) = 0;
  // The subprotocol agreed in the handshake ("" if none).
  virtual const std::string& protocol() const = 0;
  // The peer's close code once Read ended because the peer closed (1005: it gave none, 1006:
  // the connection ended without a close frame), else 0.
  virtual uint16_t close_code() const = 0;
};

// Completes the handshake for request on raw (which must outlive the WebSocket).
asio::awaitable<Result<std::unique_ptr<WebSocket>>> AcceptWebSocket(ByteStream& raw,
                                                                    const ServerRequest& request,
                                                                    WebSocketOptions options = {});

// The Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
std::string WebSocketAccept(std::string_view key);

}  // namespace micro::http
