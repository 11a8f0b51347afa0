#include "util/exit_guard.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/error.hpp>
#include <asio/ssl/error.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <system_error>
#include <vector>

namespace micro::util {
namespace {

struct ExitState {
  std::mutex mu;
  std::condition_variable idle;
  std::condition_variable joined;  // a claimed context's threads were joined
  struct Tracked {
    asio::io_context* ctx;
    std::function<void()> join;
    bool joining = false;  // the exit handler is joining its threads (outside the lock)
  };
  std::vector<Tracked> contexts;
  int running = 0;  // live IoThreadScopes
};

// Never destroyed: the exit handler and late-exiting threads use it during static destruction.
ExitState& State() {
  static ExitState* state = new ExitState();
  return *state;
}

thread_local bool t_in_scope = false;

void StopAtExit() {
  ExitState& s = State();
  std::unique_lock l(s.mu);
  for (auto& t : s.contexts) t.ctx->stop();
  const int self = t_in_scope ? 1 : 0;  // exit() called on one of our threads
  // (The wait releases the lock: a thread finishing its last handler may still untrack.)
  if (!s.idle.wait_for(l, std::chrono::seconds(5), [&] { return s.running <= self; })) return;
  if (self) return;  // cannot join the caller's own thread: leave them all running down
  // Joined without the lock: a thread that had not yet entered its IoThreadScope when exit
  // began takes the lock on its way in (and out), and would wait for it forever. Each context
  // is claimed first: its owner's UntrackIoContext waits until the claim ends, so the owner
  // never joins the same threads at the same time, nor frees what `join` uses.
  std::vector<std::pair<asio::io_context*, std::function<void()>>> joins;
  for (auto& t : s.contexts) {
    t.joining = true;
    joins.emplace_back(t.ctx, t.join);
  }
  l.unlock();
  for (auto& [ctx, join] : joins) {
    join();
    {
      std::lock_guard relock(s.mu);
      for (auto& t : s.contexts) {
        if (t.ctx == ctx) t.joining = false;
      }
    }
    s.joined.notify_all();
  }
}

void RegisterOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Construct the statics the I/O threads read before registering: exit handlers and static
    // destructors run in reverse order of registration, so these outlive the stop.
    (void)std::system_category();
    (void)std::generic_category();
    (void)asio::error::get_system_category();
    (void)asio::error::get_netdb_category();
    (void)asio::error::get_addrinfo_category();
    (void)asio::error::get_misc_category();
    (void)asio::error::get_ssl_category();
    (void)asio::ssl::error::get_stream_category();
    (void)spdlog::default_logger_raw();
    (void)State();
    std::atexit(StopAtExit);
  });
}

}  // namespace

void TrackIoContext(asio::io_context& ctx, std::function<void()> join) {
  RegisterOnce();
  ExitState& s = State();
  std::lock_guard l(s.mu);
  s.contexts.push_back({&ctx, std::move(join)});
}

void UntrackIoContext(asio::io_context& ctx) {
  ExitState& s = State();
  std::unique_lock l(s.mu);
  s.joined.wait(l, [&] {
    return std::none_of(s.contexts.begin(), s.contexts.end(),
                        [&](const ExitState::Tracked& t) { return t.ctx == &ctx && t.joining; });
  });
  std::erase_if(s.contexts, [&](const ExitState::Tracked& t) { return t.ctx == &ctx; });
}

IoThreadScope::IoThreadScope() {
  ExitState& s = State();
  std::lock_guard l(s.mu);
  ++s.running;
  t_in_scope = true;
}

IoThreadScope::~IoThreadScope() {
  ExitState& s = State();
  {
    std::lock_guard l(s.mu);
    --s.running;
    t_in_scope = false;
  }
  s.idle.notify_all();
}

}  // namespace micro::util
