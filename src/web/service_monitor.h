// Keeps the dashboard's RegistryView current: one thread reads every service from the
// registry whenever a watch event arrives (events in a burst are read as one) and every
// poll_interval otherwise, and hands each changed view to the event streams.
//
// Threading: View, Subscribe and Unsubscribe from any thread; Start and Stop from one thread.
// A subscriber's queue is drained by one coroutine (AsyncQueue's rule); Stop closes them all.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "micro/plugin/async_queue.h"
#include "micro/registry.h"
#include "web/registry_view.h"

namespace micro::web_detail {

class ServiceMonitor {
 public:
  using Queue = plugin::AsyncQueue<ViewPtr>;

  ServiceMonitor(std::shared_ptr<Registry> registry, std::string ns, Duration poll_interval);
  ~ServiceMonitor();
  ServiceMonitor(const ServiceMonitor&) = delete;
  ServiceMonitor& operator=(const ServiceMonitor&) = delete;

  // Reads the registry once (so View() has something), then starts the thread.
  void Start();
  // Stops the thread and closes every subscriber's queue. Idempotent.
  void Stop();

  ViewPtr View() const;
  // A queue that receives every view that differs from the one before it.
  std::shared_ptr<Queue> Subscribe();
  void Unsubscribe(const std::shared_ptr<Queue>& queue);

 private:
  void Run();
  // Reads every service; publishes the view when it changed.
  void Refresh();
  // Waits for a watch event (and the rest of its burst) or the poll interval. False: stop.
  bool WaitForChange();

  const std::shared_ptr<Registry> registry_;
  const std::string ns_;
  const Duration poll_interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  ViewPtr view_;
  std::vector<std::shared_ptr<Queue>> queues_;
  std::shared_ptr<registry::Watcher> watcher_;
  std::thread thread_;
};

}  // namespace micro::web_detail
