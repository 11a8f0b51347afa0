#include "client/connection_pool.h"

#include <algorithm>
#include <iterator>

#include "micro/plugin/io.h"

namespace micro::client_detail {

ConnectionPool::Entry ConnectionPool::GetEntry(const std::string& addr) {
  return GetEntry(addr, asio::any_io_executor());
}

ConnectionPool::Entry ConnectionPool::GetEntry(const std::string& addr,
                                               const asio::any_io_executor& prefer) {
  for (;;) {
    Entry found;
    {
      std::lock_guard lock(mu_);
      auto it = idle_.find(addr);
      if (it == idle_.end()) return {};
      auto& q = it->second;
      const auto now = Clock::now();
      std::erase_if(q, [&](Entry& e) {
        if (now - e.created < ttl_) return false;
        e.sock->Close();
        return true;
      });
      if (q.empty()) return {};
      // Best first: the caller's own strand (no hop at all), then another connection on the
      // caller's single-threaded loop (no hop between threads), then the most recently used
      // (warm). The pool holds at most size_ entries per address, so the scan is short.
      auto best = std::prev(q.end());
      int best_rank = 0;
      if (prefer) {
        for (auto e = q.end(); e != q.begin() && best_rank < 2;) {
          --e;
          const auto ex = e->sock->executor();
          const int rank = ex == prefer ? 2 : plugin::OnSameSingleThread(ex, prefer) ? 1 : 0;
          if (rank > best_rank) {
            best = e;
            best_rank = rank;
          }
        }
      }
      found = std::move(*best);
      q.erase(best);
    }
    // A connection the server closed (drained, or the node died) would take the request and
    // fail it after it was sent: dropped here (outside the lock: a system call), and the next
    // one tried; with none left the call dials and, if refused, retries.
    if (Clock::now() - found.idle_since < kCheckAfterIdle || !found.sock->Stale()) return found;
    found.sock->Close();
  }
}

std::shared_ptr<Socket> ConnectionPool::Get(const std::string& addr) { return GetEntry(addr).sock; }

void ConnectionPool::Put(const std::string& addr, std::shared_ptr<Socket> sock, TimePoint created) {
  {
    std::lock_guard lock(mu_);
    auto& q = idle_[addr];
    if (q.size() < size_ && Clock::now() - created < ttl_) {
      q.push_back({std::move(sock), created, Clock::now()});
      return;
    }
  }
  sock->Close();
}

}  // namespace micro::client_detail
