// A memory registry whose lookups and watches are counted, and whose lookups can be slowed
// down, held at a gate, or made to fail. Shared by the cache, selector, client and service
// tests.
#pragma once

#include <micro/registry.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

namespace micro::testing_util {

class CountingRegistry : public Registry {
 public:
  using Registry::Register;
  using Registry::Watch;
  Status Register(const registry::Service& s, const RegisterOptions& o) override {
    return inner_->Register(s, o);
  }
  Status Deregister(const registry::Service& s) override { return inner_->Deregister(s); }
  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    ++lookups;
    std::shared_future<void> gate;
    {
      std::lock_guard lock(mu_);
      gate = gate_;
    }
    if (gate.valid()) gate.wait();
    std::this_thread::sleep_for(delay.load());
    ++lookups_done;
    if (failing) return errors::InternalServerError("fake", "registry down");
    return inner_->GetService(name);
  }
  Result<std::vector<registry::Service>> ListServices() override { return inner_->ListServices(); }
  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& o) override {
    ++watches;
    return inner_->Watch(o);
  }
  std::string String() const override { return "fake"; }

  // Lookups wait until OpenGate().
  void CloseGate() {
    std::lock_guard lock(mu_);
    gate_promise_ = std::promise<void>();
    gate_ = gate_promise_.get_future().share();
  }
  void OpenGate() {
    std::lock_guard lock(mu_);
    if (!gate_.valid()) return;
    gate_promise_.set_value();
    gate_ = {};
  }

  std::atomic<int> lookups{0};       // GetService calls begun
  std::atomic<int> lookups_done{0};  // GetService calls past the gate and the delay
  std::atomic<int> watches{0};       // Watch calls
  std::atomic<bool> failing{false};
  std::atomic<Duration> delay{Duration::zero()};

 private:
  std::shared_ptr<Registry> inner_ = *NewMemoryRegistry();
  std::mutex mu_;
  std::promise<void> gate_promise_;
  std::shared_future<void> gate_;
};

// Polls pred every 5 ms until it holds (true) or `limit` has passed (false).
template <class F>
bool WaitFor(F&& pred, Duration limit) {
  const auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace micro::testing_util
