// Strands that do not allocate on every asynchronous operation.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/execution/context.hpp>
#include <asio/io_context.hpp>
#include <asio/query.hpp>
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

// Marks an io_context that only one thread ever runs (a Runtime of one thread, a transport's
// own I/O thread). Everything on it is serialised without strands.
class OneThreadMark final : public asio::execution_context::service {
 public:
  using key_type = OneThreadMark;
  static inline asio::execution_context::id id;
  explicit OneThreadMark(asio::execution_context& ctx) : service(ctx) {}

 private:
  void shutdown() override {}
};

inline void MarkOneThread(asio::io_context& ctx) {
  if (!asio::has_service<OneThreadMark>(ctx)) asio::make_service<OneThreadMark>(ctx);
}

// True when a and b run on the same io_context and only one thread runs it: code running on
// a may then use objects bound to b (a strand included) without hopping to b.
inline bool OnSameSingleThread(const asio::any_io_executor& a, const asio::any_io_executor& b) {
  auto& ca = asio::query(a, asio::execution::context);
  return &ca == &asio::query(b, asio::execution::context) && asio::has_service<OneThreadMark>(ca);
}

}  // namespace micro::util
