// Internal helpers shared by the transports: the plugin SDK's I/O helpers under their old
// names, a blocking bridge with the transport's error id, and the error constructors of the
// "go.micro.transport" id.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "micro/errors.h"
#include "micro/plugin/address.h"
#include "micro/plugin/io.h"
#include "micro/status.h"
#include "micro/transport.h"

namespace micro::transport_detail {

using plugin::HostPort;
using plugin::IoThread;
using plugin::JoinHostPort;
using plugin::ParseHostPort;
using plugin::RunningInThisThread;

// Runs aw on ex and blocks until it completes (the shared helper, with the transport's error
// id). Must not be called on ex's thread.
template <class T>
T RunBlocking(const asio::any_io_executor& ex, asio::awaitable<T> aw) {
  return plugin::RunBlocking(ex, std::move(aw), kTransportErrorId);
}

Error IoError(std::string_view what, const std::error_code& ec);
Error TimeoutError(std::string_view which);
Error EofError();
Error ClosedError();

}  // namespace micro::transport_detail
