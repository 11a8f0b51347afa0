// Strands that do not allocate on every asynchronous operation.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

namespace micro::util {

// A strand over ex, type-erased. Every asynchronous operation copies its executor with
// outstanding work tracked; a strand over io_context's own executor fits in any_io_executor's
// small buffer (no allocation), a strand over an any_io_executor does not (two allocations per
// copy, several copies per call). Falls back to the latter for other executors.
inline asio::any_io_executor MakeStrand(const asio::any_io_executor& ex) {
  if (const auto* io = ex.target<asio::io_context::executor_type>()) {
    return asio::make_strand(*io);
  }
  return asio::make_strand(ex);
}

}  // namespace micro::util
