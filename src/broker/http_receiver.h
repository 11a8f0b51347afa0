// The HTTP broker's receiving end: a small HTTP/1.1 server (keep-alive, optional TLS) that
// hands each complete request to a coroutine and writes the reply it returns.
//
// Threading: everything runs on the executor given to Start; the request handler is awaited
// on a connection's strand. Close() may be called from any thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "micro/status.h"
#include "micro/transport.h"

namespace micro::broker_detail {

struct HttpRequest {
  std::string_view method;  // "POST"
  std::string target;       // "/?id=node"
  Message message;          // headers and body
};

struct HttpReply {
  int status = 200;
  std::string content_type{};  // omitted when empty
  std::string body{};
};

using RequestHandler = std::function<asio::awaitable<HttpReply>(HttpRequest&)>;

struct ReceiverOptions {
  std::string address = "127.0.0.1:0";
  bool secure = false;
  TlsOptions tls{};
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  Duration idle_timeout = std::chrono::seconds(120);
};

class HttpReceiver {
 public:
  // Binds at once (Addr() is final when it returns), then accepts on ex until Close().
  static Result<std::shared_ptr<HttpReceiver>> Start(asio::any_io_executor ex,
                                                     ReceiverOptions options,
                                                     RequestHandler handler);
  virtual ~HttpReceiver() = default;
  virtual std::string Addr() const = 0;
  // Stops accepting and closes every open connection. Idempotent.
  virtual void Close() = 0;
};

// The value of one query parameter of a request target ("/?id=a%2Fb" -> "a/b"), or "".
std::string QueryParam(std::string_view target, std::string_view key);

}  // namespace micro::broker_detail
