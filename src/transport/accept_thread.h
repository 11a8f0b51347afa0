// The thread every listener of the process accepts on (transport listeners, http::Server).
//
// Why a thread of its own: asio keeps the per-descriptor state of every socket it registered in
// a pool for reuse, never freed, allocated by the thread that accepted the socket. Accepted on
// an I/O loop, those states sit between each connection's buffers in that thread's heap, and
// after a surge of connections each pins a page that malloc_trim cannot return (4 MB per 1,000
// connections, measured). Accepted here, they are packed together in this thread's heap
// (about 170 kB per 1,000). One thread for the whole process: accepting is cheap, and a service
// then runs N I/O threads plus a fixed few (tests/rpc/threads_test.cc).
#pragma once

#include <asio/any_io_executor.hpp>

namespace micro::transport_detail {

// The accept thread's executor (one thread runs it: no strand needed). Created on the first
// call, thread-safe; the thread lives until the process exits (stopped and joined then, as
// every I/O thread is).
asio::any_io_executor AcceptThreadExecutor();

}  // namespace micro::transport_detail
