// Runs blocking work (registry and broker calls) on a worker pool and resumes the awaiting
// coroutine on its own executor, so the sidecar's I/O threads never block.
#pragma once

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <memory>

#include "util/worker_pool.h"

namespace micro::sidecar_detail {

// fn must not own the pool (its last copy may be dropped on a pool thread).
template <class R>
asio::awaitable<R> OffLoop(util::WorkerPool& pool, std::function<R()> fn) {
  auto initiate = [&pool](auto handler, std::function<R()> work) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    pool.Post([shared, work = std::move(work)]() mutable {
      R result = work();
      auto ex = asio::get_associated_executor(*shared);
      asio::post(ex,
                 [shared, result = std::move(result)]() mutable { (*shared)(std::move(result)); });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      initiate, asio::use_awaitable, std::move(fn));
}

}  // namespace micro::sidecar_detail
