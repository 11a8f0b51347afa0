// Writing a message without a round through the event loop when the socket can take it now.
//
// A reply or request of a few hundred bytes almost always fits in the socket's send buffer:
// writing it at once (non-blocking) saves the operation, its completion post and the coroutine's
// resumption that async_write costs. Whatever is left (a full buffer, a large body) is then
// written by async_write as before. Plain TCP only: a TLS stream's writes go through its engine.
#pragma once

#include <algorithm>
#include <array>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <system_error>

namespace micro::transport_detail {

using WriteBuffers = std::array<asio::const_buffer, 2>;

// Writes what `socket` takes now, never waiting. Returns the bytes written; `ec` is set only
// for a real failure (the peer reset the connection...), not for a full send buffer.
inline std::size_t WriteNow(asio::ip::tcp::socket& socket, const WriteBuffers& buffers,
                            std::error_code& ec) {
  ec.clear();
  if (!socket.non_blocking()) {
    socket.non_blocking(true, ec);  // once per socket: a full buffer must not block the thread
    if (ec) return 0;
  }
  const std::size_t n = socket.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
  return ec ? 0 : n;
}

// Any other stream (TLS): nothing is written at once.
template <class Stream>
std::size_t WriteNow(Stream& /*stream*/, const WriteBuffers& /*buffers*/, std::error_code& ec) {
  ec.clear();
  return 0;
}

// The part of `buffers` after the first `written` bytes.
inline WriteBuffers Remaining(WriteBuffers buffers, std::size_t written) {
  for (auto& b : buffers) {
    const std::size_t used = std::min(written, b.size());
    b += used;
    written -= used;
  }
  return buffers;
}

inline std::size_t TotalSize(const WriteBuffers& buffers) {
  return buffers[0].size() + buffers[1].size();
}

}  // namespace micro::transport_detail
