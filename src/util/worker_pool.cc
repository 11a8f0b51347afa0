#include "util/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <thread>

namespace micro::util {

void SetThreadName(const char* name) {
  char buf[16];
  std::size_t n = 0;
  for (; name[n] != '\0' && n < sizeof(buf) - 1; ++n) buf[n] = name[n];
  buf[n] = '\0';
  (void)pthread_setname_np(pthread_self(), buf);
}

struct WorkerPool::Worker {
  std::condition_variable cv;
  std::unique_ptr<Task> task;  // handed over by Submit while the worker is idle
  bool unbounded = false;
};

WorkerPool::WorkerPool(std::size_t max_threads, std::string thread_name, Duration idle_timeout)
    : max_(std::max<std::size_t>(1, max_threads)),
      name_(std::move(thread_name)),
      idle_timeout_(idle_timeout) {}

WorkerPool::~WorkerPool() { Join(); }

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

void WorkerPool::Submit(std::unique_ptr<Task> task, bool unbounded) {
  std::lock_guard lock(mu_);
  if (!unbounded && busy_bounded_ >= max_) {
    queue_.push_back(std::move(task));
    return;
  }
  if (!unbounded) ++busy_bounded_;
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->task = std::move(task);
    w->unbounded = unbounded;
    w->cv.notify_one();
    return;
  }
  Spawn(std::move(task), unbounded);
}

void WorkerPool::Spawn(std::unique_ptr<Task> task, bool unbounded) {
  ++threads_;
  try {
    std::thread([this, task = std::move(task), unbounded]() mutable {
      Worker self;
      Loop(&self, std::move(task), unbounded);
    }).detach();
  } catch (...) {
    --threads_;
    if (!unbounded) --busy_bounded_;
    throw;
  }
}

void WorkerPool::Loop(Worker* self, std::unique_ptr<Task> task, bool unbounded) {
  SetThreadName(name_.c_str());
  std::unique_lock lock(mu_, std::defer_lock);
  for (;;) {
    task->Run();
    task.reset();
    lock.lock();
    if (!unbounded) --busy_bounded_;
    if (!queue_.empty() && busy_bounded_ < max_) {
      task = std::move(queue_.front());
      queue_.pop_front();
      unbounded = false;
      ++busy_bounded_;
      lock.unlock();
      continue;
    }
    idle_.push_back(self);
    while (!self->task && !joining_) {
      if (self->cv.wait_for(lock, idle_timeout_) == std::cv_status::timeout && !self->task &&
          threads_ > max_) {
        break;
      }
    }
    if (!self->task) {
      std::erase(idle_, self);
      if (--threads_ == 0) all_exited_.notify_all();
      return;  // `lock` unlocks; nothing of the pool is touched after that
    }
    task = std::move(self->task);
    unbounded = self->unbounded;
    lock.unlock();
  }
}

void WorkerPool::Join() {
  std::unique_lock lock(mu_);
  joining_ = true;
  for (Worker* w : idle_) w->cv.notify_one();
  all_exited_.wait(lock, [&] { return threads_ == 0; });
  joining_ = false;
}

}  // namespace micro::util
