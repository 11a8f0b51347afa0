// micro::http::Client: a small HTTP/1.1 client for plugins and the HTTP broker (etcd's JSON
// gateway, Consul's agent API, broker POSTs). Not a general web client: no redirects, no
// cookies, no compression, no proxies.
//
//   micro::http::Client client({});
//   auto rsp = client.SendSync("127.0.0.1:2379",
//                              {.method = "POST", .target = "/v3/kv/range", .body = json});
//   if (rsp && rsp->status == 200) use(rsp->body);
//
//   // Streaming bodies (etcd watch: newline-delimited JSON over chunked encoding):
//   co_await client.Stream("127.0.0.1:2379", request, ctx,
//                          [](const micro::http::Response& head) { return head.status == 200; },
//                          [](std::string_view data) { feed(data); return true; });
//
// Connections: kept alive and reused per address (at most ClientOptions::max_idle_per_address
// idle ones). A request that fails on a reused connection before any response byte arrived is
// retried once on a fresh connection (the server may have closed it while idle).
// Threading: Client methods may be called from any thread, concurrently. Send/Stream must be
// awaited on any executor; the socket work runs on ClientOptions::executor (or the client's
// own io_context thread). *Sync forms must not be called from that executor's thread (they
// return an error instead of deadlocking).
// Stream's on_head/on_data run on the client's executor (one call's callbacks one at a time,
// never concurrently); they must not block.
// Errors: a micro::Error with id "go.micro.http": 408 when a timeout fired (the detail names
// which: "connect timeout", "TLS handshake timeout", "request timeout" or "context deadline
// exceeded"), 500 for connection/I/O failures and malformed responses, 413 when a body exceeds
// max_body_bytes (not applied to Stream bodies), 499 when the context was cancelled, 400 for a
// method that is not a token or a target with spaces/newlines. An HTTP error status (404,
// 500...) is NOT an Error: it is returned in Response::status. Responses to HEAD requests and
// 1xx interim responses are not supported. Idle connections older than 90 s are not reused.
#pragma once

#include <micro/context.h>
#include <micro/metadata.h>
#include <micro/status.h>
#include <micro/transport.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace micro::http {

inline constexpr std::string_view kClientErrorId = error_ids::kHttp;

struct Request {
  std::string method = "GET";
  std::string target = "/";  // path and query, e.g. "/?id=node-1"
  Metadata header{};         // Host, Content-Length and User-Agent are added when absent
  std::string body{};
};

struct Response {
  int status = 0;
  std::string reason{};
  Metadata header{};
  std::string body{};  // empty for Stream (the body goes to the data callback)
};

struct ClientOptions {
  bool secure = false;  // https
  TlsOptions tls{};
  Duration connect_timeout = std::chrono::seconds(5);
  // Whole request/response for Send; for Stream, the wait for the response head only.
  Duration request_timeout = std::chrono::seconds(30);
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  std::size_t max_idle_per_address = 4;
  asio::any_io_executor executor{};  // empty: the client's own io_context thread
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request, one complete response. address is "host:port".
  asio::awaitable<Result<Response>> Send(std::string address, Request request, Context ctx = {});
  Result<Response> SendSync(std::string address, Request request, Context ctx = {});

  // One request whose response body is delivered piece by piece as it arrives (chunk
  // boundaries are not preserved). on_head sees the status and headers first; returning false
  // ends the call (ok). on_data returning false, ctx cancellation or Cancel-ing ctx ends the
  // stream and closes the connection. Completes ok when the body ends.
  asio::awaitable<Status> Stream(std::string address, Request request, Context ctx,
                                 std::function<bool(const Response& head)> on_head,
                                 std::function<bool(std::string_view data)> on_data);

  const ClientOptions& Options() const { return options_; }

 private:
  struct Impl;
  ClientOptions options_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace micro::http
