// No I/O thread of ours outlives main. A thread still running handlers while the process exits
// uses objects that static destruction is pulling from under it (asio's error categories:
// UBSan's "invalid vptr"; loggers; the allocator's state). Every io_context the library runs on
// threads of its own (Runtime, plugin::IoThread) is tracked here; when the process exits
// (main returns or exit() is called), an exit handler stops every tracked context and waits
// (up to 5 s) for their threads to return from run(). It is registered once, after the
// function-local statics those threads use are constructed, so that it runs before they are
// destroyed.
//
// After that, handlers posted to those contexts no longer run: objects destroyed later (static
// ones) must not wait on them. A thread that calls exit() itself is not waited for.
//
// Threading: all functions are thread-safe.
#pragma once

#include <asio/io_context.hpp>
#include <functional>

namespace micro::util {

// Tracks ctx from now until UntrackIoContext. At exit, once ctx is stopped and its threads have
// left run(), `join` is called (outside the guard's lock) to join them; the owner's destructor
// must call UntrackIoContext before it joins its threads itself (and skip those no longer
// joinable), so that the two never join at once: when the exit handler is joining them,
// UntrackIoContext waits until it has (so it must not be called on one of those threads).
void TrackIoContext(asio::io_context& ctx, std::function<void()> join);
void UntrackIoContext(asio::io_context& ctx);

// Held by each thread that runs a tracked context, around run(): the exit handler waits until
// no such scope is alive (but the caller's own).
class IoThreadScope {
 public:
  IoThreadScope();
  ~IoThreadScope();
  IoThreadScope(const IoThreadScope&) = delete;
  IoThreadScope& operator=(const IoThreadScope&) = delete;
};

}  // namespace micro::util
