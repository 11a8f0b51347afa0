// /events: the dashboard's server-sent events (text/event-stream) on a connection the HTTP
// server handed over. Each time the registry view changes, one `services` event carries its
// summary JSON; a comment line every keep-alive interval finds clients that went away.
#pragma once

#include <asio/awaitable.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "http/server.h"
#include "web/service_monitor.h"

namespace micro::web_detail {

// "event: <name>\ndata: <data>\n\n" (data must be one line, as compact JSON is).
std::string SseEvent(std::string_view name, std::string_view data);

// Writes the response head and the current view, then every change, until the client closes
// the connection, a write fails or the monitor stops.
asio::awaitable<void> ServeEvents(http::ByteStream& raw, std::shared_ptr<ServiceMonitor> monitor,
                                  Duration keepalive);

}  // namespace micro::web_detail
