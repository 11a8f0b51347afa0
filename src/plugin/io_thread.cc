#include <micro/plugin/io.h>

#include "util/exit_guard.h"
#include "util/worker_pool.h"  // SetThreadName

namespace micro::plugin {

std::shared_ptr<IoThread> IoThread::Create() {
  // The last owner may be a handler running on the thread itself (a socket's coroutine
  // frame): then stopping and joining happen on a short-lived helper thread instead.
  return std::shared_ptr<IoThread>(new IoThread(), [](IoThread* p) {
    if (p->thread_.get_id() == std::this_thread::get_id()) {
      // Waited for at exit like an I/O thread: it joins one and destroys its io_context.
      std::thread([p] {
        util::IoThreadScope scope;
        delete p;
      }).detach();
    } else {
      delete p;
    }
  });
}

IoThread::IoThread() {
  MarkOneThread(context_);
  work_.emplace(context_.get_executor());
  // Stopped, and its thread joined, when the process exits (util/exit_guard.h).
  util::TrackIoContext(context_, [this] {
    if (thread_.joinable()) thread_.join();
  });
  thread_ = std::thread([this] {
    util::IoThreadScope scope;
    util::SetThreadName("micro-io-own");
    context_.run();
  });
}

IoThread::~IoThread() {
  work_.reset();
  context_.stop();
  util::UntrackIoContext(context_);  // first: the exit handler may have joined it already
  if (thread_.joinable()) thread_.join();
}

bool RunningInThisThread(const asio::any_io_executor& ex) {
  using IoEx = asio::io_context::executor_type;
  if (const auto* io = ex.target<IoEx>()) return io->running_in_this_thread();
  if (const auto* s = ex.target<asio::strand<IoEx>>()) {
    return s->get_inner_executor().running_in_this_thread();
  }
  if (const auto* s = ex.target<asio::strand<asio::any_io_executor>>()) {
    return RunningInThisThread(s->get_inner_executor());
  }
  return false;
}

}  // namespace micro::plugin
