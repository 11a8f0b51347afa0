// Mesh calls to the parent app: a listener on the service's transport (mucp) whose every unary
// JSON call is sent to the app as `POST http://<app>/<Endpoint>` and answered with the app's
// JSON, or with a go-micro error in Micro-Error.
#pragma once

#include <asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>

#include "micro/http_client.h"
#include "micro/transport.h"

namespace micro::sidecar_detail {

struct InboundOptions {
  std::string app_name;                      // error id of the app's own failures
  std::function<std::string()> app_address;  // where to send calls ("" while unknown)
  Duration app_timeout = std::chrono::seconds(30);
};

// The HTTP request for the app from one mesh call, or the error to answer at once (a stream,
// a body that is not JSON, an endpoint that is not Handler.Method). Pure, for tests.
Result<http::Request> AppRequest(const Message& call);

// The reply to the mesh for the app's HTTP answer (2xx: its JSON; else an error, the app's
// go-micro error JSON when it sent one). Pure, for tests.
Message AppReply(const Message& call, const http::Response& answer, std::string_view app_name);

// An error reply in mucp form (Micro-Error and X-Micro-Error headers, empty body).
Message ErrorMessage(const Message& call, const Error& error);

// Serves mesh calls on one transport connection until it closes.
asio::awaitable<void> ServeInbound(std::shared_ptr<Socket> socket, const InboundOptions& options,
                                   http::Client& client);

}  // namespace micro::sidecar_detail
