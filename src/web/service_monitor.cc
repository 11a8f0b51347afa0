#include "web/service_monitor.h"

#include <algorithm>
#include <set>

#include "micro/logger.h"
#include "util/worker_pool.h"

namespace micro::web_detail {

ServiceMonitor::ServiceMonitor(std::shared_ptr<Registry> registry, std::string ns,
                               Duration poll_interval)
    : registry_(std::move(registry)), ns_(std::move(ns)), poll_interval_(poll_interval) {
  view_ = MakeView({}, "", ns_);
}

ServiceMonitor::~ServiceMonitor() { Stop(); }

void ServiceMonitor::Start() {
  Refresh();
  thread_ = std::thread([this] { Run(); });
}

void ServiceMonitor::Stop() {
  std::vector<std::shared_ptr<Queue>> queues;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (watcher_) watcher_->Stop();
    queues.swap(queues_);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& q : queues) q->Close();
}

ViewPtr ServiceMonitor::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

std::shared_ptr<ServiceMonitor::Queue> ServiceMonitor::Subscribe() {
  auto q = std::make_shared<Queue>();
  std::lock_guard lock(mu_);
  if (stopping_) {
    q->Close();
  } else {
    queues_.push_back(q);
  }
  return q;
}

void ServiceMonitor::Unsubscribe(const std::shared_ptr<Queue>& queue) {
  std::lock_guard lock(mu_);
  std::erase(queues_, queue);
}

void ServiceMonitor::Run() {
  util::SetThreadName("micro-web-watch");
  while (WaitForChange()) Refresh();
}

bool ServiceMonitor::WaitForChange() {
  std::shared_ptr<registry::Watcher> watcher;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    watcher = watcher_;
  }
  if (!watcher) {
    auto made = registry_->Watch();  // may block (etcd, Consul): outside the lock
    std::lock_guard lock(mu_);
    if (stopping_) {
      if (made) (*made)->Stop();
      return false;
    }
    if (made) {
      watcher_ = std::move(*made);
      watcher = watcher_;
    } else {
      log::Warn("micro web: cannot watch the registry ({}); polling every {} ms", made.error(),
                std::chrono::duration_cast<std::chrono::milliseconds>(poll_interval_).count());
    }
  }
  if (watcher) {
    auto event = watcher->Next(poll_interval_);
    if (event) {
      // The rest of a burst (a service starting registers several nodes and endpoints).
      while (watcher->Next(std::chrono::milliseconds(50))) {
      }
    } else if (event.error().code != 408) {  // stopped or broken (not just quiet)
      std::unique_lock lock(mu_);
      if (stopping_) return false;
      watcher_.reset();  // watch again next time, after a pause: no busy loop while it fails
      cv_.wait_for(lock, poll_interval_, [&] { return stopping_; });
    }
  } else {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, poll_interval_, [&] { return stopping_; });
  }
  std::lock_guard lock(mu_);
  return !stopping_;
}

void ServiceMonitor::Refresh() {
  std::vector<registry::Service> services;
  std::string error;
  auto listed = registry_->ListServices();
  if (!listed) {
    error = "registry " + registry_->String() + ": " + listed.error().detail;
    std::lock_guard lock(mu_);
    services = view_->services;  // keep showing the last good answer
  } else {
    std::set<std::string> names;
    for (const auto& s : *listed) names.insert(s.name);
    for (const auto& name : names) {
      auto found = registry_->GetService(name);
      if (found) {
        for (auto& s : *found) services.push_back(std::move(s));
      } else if (!registry::IsNotFound(found.error())) {
        error = "registry " + registry_->String() + ": " + name + ": " + found.error().detail;
      }
    }
  }
  ViewPtr next = MakeView(std::move(services), std::move(error), ns_);
  std::vector<std::shared_ptr<Queue>> queues;
  {
    std::lock_guard lock(mu_);
    if (next->summary_json == view_->summary_json && next->registry_json == view_->registry_json) {
      return;
    }
    view_ = next;
    queues = queues_;
  }
  for (auto& q : queues) q->Push(next);
}

}  // namespace micro::web_detail
