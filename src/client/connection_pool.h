// Idle connections per address, as go-micro's pool: at most `size` kept per address, none
// older than `ttl` reused. Thread-safe.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "micro/transport.h"

namespace micro::client_detail {

class ConnectionPool {
 public:
  ConnectionPool(std::size_t size, Duration ttl) : size_(size), ttl_(ttl) {}

  // An idle connection to addr, or null.
  std::shared_ptr<Socket> Get(const std::string& addr);
  // Returns a healthy connection; dropped (closed) when the pool for addr is full or it is old.
  void Put(const std::string& addr, std::shared_ptr<Socket> sock, TimePoint created);
  // When a pooled socket was made (for Put).
  struct Entry {
    std::shared_ptr<Socket> sock;
    TimePoint created;
    TimePoint idle_since{};  // when Put back (set by Put)
  };
  Entry GetEntry(const std::string& addr);
  // The same, preferring a connection whose executor is `prefer` (the caller's strand): a call
  // made on that strand then uses the socket without hopping to another strand and back.
  Entry GetEntry(const std::string& addr, const asio::any_io_executor& prefer);

 private:
  // A connection idle at least this long is checked for a close by the peer before reuse (a
  // system call); one reused sooner is not: the peer's close after a drain comes with the
  // last answer's Connection: close, and at full load the check would cost a syscall per call.
  static constexpr Duration kCheckAfterIdle = std::chrono::milliseconds(1);

  std::size_t size_;
  Duration ttl_;
  std::mutex mu_;
  std::map<std::string, std::deque<Entry>> idle_;
};

}  // namespace micro::client_detail
