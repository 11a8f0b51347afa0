#include "client/connection_pool.h"

namespace micro::client_detail {

ConnectionPool::Entry ConnectionPool::GetEntry(const std::string& addr) {
  return GetEntry(addr, asio::any_io_executor());
}

ConnectionPool::Entry ConnectionPool::GetEntry(const std::string& addr,
                                               const asio::any_io_executor& prefer) {
  std::lock_guard lock(mu_);
  auto it = idle_.find(addr);
  if (it == idle_.end()) return {};
  auto& q = it->second;
  const auto now = Clock::now();
  if (prefer) {
    // Newest first; the pool holds at most size_ entries per address, so the scan is short.
    for (auto e = q.rbegin(); e != q.rend(); ++e) {
      if (e->sock->executor() != prefer || now - e->created >= ttl_) continue;
      Entry found = std::move(*e);
      q.erase(std::next(e).base());
      if (!found.sock->Stale()) return found;
      found.sock->Close();
      break;  // the rest are checked below
    }
  }
  while (!q.empty()) {
    Entry e = std::move(q.back());  // most recently used first: warm connections
    q.pop_back();
    // A connection the server closed (drained, or the node died) would take the request and
    // fail it after it was sent: dropped here, the call dials and, if refused, retries.
    if (now - e.created < ttl_ && !e.sock->Stale()) return e;
    e.sock->Close();
  }
  return {};
}

std::shared_ptr<Socket> ConnectionPool::Get(const std::string& addr) { return GetEntry(addr).sock; }

void ConnectionPool::Put(const std::string& addr, std::shared_ptr<Socket> sock, TimePoint created) {
  {
    std::lock_guard lock(mu_);
    auto& q = idle_[addr];
    if (q.size() < size_ && Clock::now() - created < ttl_) {
      q.push_back({std::move(sock), created});
      return;
    }
  }
  sock->Close();
}

}  // namespace micro::client_detail
