// Internal helpers shared by the transports: an owned io_context thread, blocking bridges
// for coroutines, and the error constructors of the "go.micro.transport" id.
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
#include "micro/status.h"
#include "micro/transport.h"
#include "util/blocking.h"

namespace micro::transport_detail {

// An io_context run by one background thread; stopped and joined when the last owner goes.
class IoThread {
 public:
  static std::shared_ptr<IoThread> Create();
  ~IoThread();
  asio::any_io_executor executor() { return context_.get_executor(); }

 private:
  IoThread();
  asio::io_context context_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

// True when the calling thread is running ex's io_context (a blocking wait would deadlock).
bool RunningInThisThread(const asio::any_io_executor& ex);

// Runs aw on ex and blocks until it completes (the shared helper, with the transport's error
// id). Must not be called on ex's thread.
template <class T>
T RunBlocking(const asio::any_io_executor& ex, asio::awaitable<T> aw) {
  return util::RunBlocking(ex, std::move(aw), kTransportErrorId);
}

Error IoError(std::string_view what, const std::error_code& ec);
Error TimeoutError(std::string_view which);
Error EofError();
Error ClosedError();

}  // namespace micro::transport_detail
