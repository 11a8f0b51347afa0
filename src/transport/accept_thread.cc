#include "transport/accept_thread.h"

#include <asio/post.hpp>
#include <memory>

#include "micro/plugin/io.h"
#include "util/worker_pool.h"  // SetThreadName

namespace micro::transport_detail {

asio::any_io_executor AcceptThreadExecutor() {
  // Never destroyed: listeners alive at exit still refer to its io_context. The exit guard
  // stops and joins the thread when the process exits (IoThread tracks it).
  static auto* const thread = [] {
    auto* t = new std::shared_ptr<plugin::IoThread>(plugin::IoThread::Create());
    asio::post((*t)->executor(), [] { util::SetThreadName("micro-accept"); });
    return t;
  }();
  return (*thread)->executor();
}

}  // namespace micro::transport_detail
