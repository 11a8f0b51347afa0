// Memory for the handler that hands an accepted socket from the accept thread to its I/O loop.
//
// Why: the handler is allocated on the accept thread and freed on the loop's thread, so no
// thread-local cache ever gives its block back to the accept thread, and each accept would take
// a fresh block from the accept thread's heap, between the socket states asio keeps there for
// good (transport/accept_thread.h). After a surge those freed blocks pin pages. Here the
// blocks are kept on a free list and reused by the next accept: as many as were ever in flight
// at once, allocated once.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace micro::transport_detail {

class HandoffPool {
 public:
  static constexpr std::size_t kBlock = 512;  // bytes; a larger request bypasses the pool

  HandoffPool() { free_.reserve(16); }
  ~HandoffPool() {
    for (void* p : free_) ::operator delete(p);
  }
  HandoffPool(const HandoffPool&) = delete;
  HandoffPool& operator=(const HandoffPool&) = delete;

  // Thread-safe, both.
  void* Allocate(std::size_t n) {
    if (n > kBlock) return ::operator new(n);
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        void* p = free_.back();
        free_.pop_back();
        return p;
      }
    }
    return ::operator new(kBlock);
  }
  void Deallocate(void* p, std::size_t n) {
    if (n > kBlock) {
      ::operator delete(p);
      return;
    }
    std::lock_guard lock(mu_);
    free_.push_back(p);
  }

 private:
  std::mutex mu_;
  std::vector<void*> free_;
};

// A standard allocator over a shared HandoffPool (the pool lives as long as any copy).
template <class T>
struct HandoffAllocator {
  using value_type = T;
  std::shared_ptr<HandoffPool> pool;

  explicit HandoffAllocator(std::shared_ptr<HandoffPool> p) : pool(std::move(p)) {}
  template <class U>
  HandoffAllocator(const HandoffAllocator<U>& other) : pool(other.pool) {}  // NOLINT: rebind

  T* allocate(std::size_t n) { return static_cast<T*>(pool->Allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { pool->Deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const HandoffAllocator<U>& other) const {
    return pool == other.pool;
  }
};

}  // namespace micro::transport_detail
