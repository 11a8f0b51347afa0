// micro::http::Server: a small HTTP/1.1 server (keep-alive, optional TLS) for the parts of the
// library that face HTTP clients: the HTTP broker's receiver, the API gateway (`micro api`) and,
// later, the web dashboard and the sidecar. Each complete request is handed to a coroutine; the
// reply it returns is written back. A handler may instead take the connection over (WebSocket,
// tunnels): see ServerReply::take_over.
//
// Limits and timeouts (ServerOptions): a header block over max_header_bytes -> 431, a body over
// max_body_bytes -> 413, a request (head and body) not fully received within read_timeout of its
// first byte -> 408, no request on a kept-alive connection within idle_timeout -> closed quietly,
// more than max_connections open -> the new one is closed at once. Error replies carry
// `Connection: close` and the connection is closed after them. idle_timeout also bounds each
// reply write, read_timeout the TLS handshake. A request with `Expect: 100-continue` gets the
// 100 once its header block is accepted. A handler that throws gets a 500 and the connection
// is closed.
//
// Threading: everything runs on the executor given to Start; each connection has its own strand
// and its handler calls are awaited on that strand, one request at a time per connection
// (pipelined requests are answered in order). Close() may be called from any thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "micro/metadata.h"
#include "micro/status.h"
#include "micro/transport.h"

namespace micro::http {

// A connection after a handler took it over: raw bytes both ways (TLS already removed).
// Used from the connection's strand only.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to size bytes; 0 at end of stream. Bytes the server had already read past the
  // request that was taken over come first.
  virtual asio::awaitable<Result<std::size_t>> ReadSome(char* data, std::size_t size) = 0;
  virtual asio::awaitable<Status> Write(std::string_view data) = 0;
  // Closes the socket; pending reads/writes end with an error. Idempotent.
  virtual void Close() = 0;
  // The connection's executor (its strand), for timers and spawning.
  virtual asio::any_io_executor executor() const = 0;
};

struct ServerRequest {
  std::string_view method;  // "GET", "POST"...
  std::string target;       // as received: "/greeter/say/hello?name=John"
  std::string path;         // target before '?', percent-decoded: "/greeter/say/hello"
  std::string raw_query;    // after '?', before '#', still encoded: "name=John"
  // Repeated fields joined with ", " (Go's Header.Get sees the first). Unlike Go's Header, Host
  // is kept here (Go's Request.Host); Transfer-Encoding is not.
  Metadata header;
  std::string body;
  std::string remote;  // peer "ip:port"
  // Upgrade: websocket requested with the handshake headers present.
  bool WantsWebSocket() const;
};

struct ServerReply {
  int status = 200;
  // Written in this order, as given (names that are not HTTP tokens are skipped, CR/LF in values
  // become spaces). Content-Length is added by the server (unless take_over, or the status is
  // 1xx/204/304); a handler's own Content-Length is dropped except on a HEAD request or a 304,
  // where it is sent as given (it describes the body not sent). Transfer-Encoding is dropped.
  // A "Connection: close" here works as `close`.
  std::vector<std::pair<std::string, std::string>> header{};
  // Header lines written after `header` exactly as they are ("Name: value\r\n" each, never
  // Content-Length, Transfer-Encoding or Connection): for fixed headers added to every reply
  // (CORS) without building pairs. The bytes must outlive the reply (a string constant).
  std::string_view fixed_lines{};
  std::string body{};
  // When set, the server writes nothing itself: it calls take_over with the connection and
  // closes the connection when it returns (the handler writes any answer, e.g. a 101). The
  // ServerRequest the handler was given stays valid until take_over returns. No server
  // timeout applies meanwhile; Server::Close() closes the stream.
  std::function<asio::awaitable<void>(ByteStream&)> take_over{};
  // Add `Connection: close` and close after writing. Also done when the client asked for it
  // (Connection: close, HTTP/1.0) or sent an Upgrade that was not taken over.
  bool close = false;

  // Convenience: sets a header (replacing one of the same name, case-insensitively).
  ServerReply& Set(std::string_view name, std::string value);
  // The value of a header already set, or "".
  std::string_view Get(std::string_view name) const;
};

using ServerHandler = std::function<asio::awaitable<ServerReply>(ServerRequest&)>;

struct ServerOptions {
  // host:port; ":0" all interfaces; port ranges as ParseHostPort.
  std::string address = "127.0.0.1:0";
  bool secure = false;
  TlsOptions tls{};
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  Duration read_timeout = std::chrono::seconds(30);
  Duration idle_timeout = std::chrono::seconds(120);
  std::size_t max_connections = 10000;
  std::string error_id = "go.micro.http";  // id of bind/listen errors
};

class Server {
 public:
  // Binds at once (Addr() is final when it returns), then accepts on ex until Close().
  static Result<std::shared_ptr<Server>> Start(asio::any_io_executor ex, ServerOptions options,
                                               ServerHandler handler);
  virtual ~Server() = default;
  virtual std::string Addr() const = 0;
  // Open connections now (for tests and metrics).
  virtual std::size_t Connections() const = 0;
  // Stops accepting and closes every open connection. Idempotent.
  virtual void Close() = 0;
};

// Go's url.QueryUnescape, lenient: '+' is a space, a bad escape is kept as it is.
std::string QueryUnescape(std::string_view s);
// Go's url.PathUnescape, lenient ('+' stays '+').
std::string PathUnescape(std::string_view s);
// url.ParseQuery: every key=value of a raw query in order (keys and values unescaped).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw_query);
// The value of one query parameter of a request target ("/?id=a%2Fb" -> "a/b"), or "".
std::string QueryParam(std::string_view target, std::string_view key);

}  // namespace micro::http
