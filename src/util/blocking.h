// Running a coroutine to completion from a plain thread.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <exception>
#include <future>
#include <optional>
#include <string_view>
#include <utility>

#include "micro/errors.h"

namespace micro::util {

// Runs aw on ex and blocks until it completes; an escaping exception becomes
// InternalServerError(error_id, message). Must not be called on one of ex's threads.
template <class T>
T RunBlocking(const asio::any_io_executor& ex, asio::awaitable<T> aw, std::string_view error_id) {
  std::promise<T> promise;
  auto future = promise.get_future();
  asio::co_spawn(ex, std::move(aw), [&promise, error_id](std::exception_ptr e, T value) {
    if (!e) {
      promise.set_value(std::move(value));
      return;
    }
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& thrown) {
      promise.set_value(T(errors::InternalServerError(std::string(error_id), thrown.what())));
    } catch (...) {
      promise.set_value(T(errors::InternalServerError(std::string(error_id), "unknown exception")));
    }
  });
  return future.get();
}

}  // namespace micro::util
