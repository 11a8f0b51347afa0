// The in-process broker: Publish calls the topic's subscribers on the publisher's thread.
#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "broker/errors.h"
#include "micro/broker.h"
#include "micro/logger.h"

namespace micro {
namespace {

struct MemorySub {
  std::string topic;
  broker::SubscribeOptions options;
  broker::Handler handler;
  std::atomic<bool> active{true};
};

class MemoryBroker;

class MemorySubscriber final : public broker::Subscriber {
 public:
  MemorySubscriber(std::weak_ptr<MemoryBroker> broker, std::shared_ptr<MemorySub> sub)
      : broker_(std::move(broker)), sub_(std::move(sub)) {}
  ~MemorySubscriber() override { (void)Unsubscribe(); }
  const std::string& Topic() const override { return sub_->topic; }
  const broker::SubscribeOptions& Options() const override { return sub_->options; }
  Status Unsubscribe() override;

 private:
  std::weak_ptr<MemoryBroker> broker_;
  std::shared_ptr<MemorySub> sub_;
};

class MemoryBroker final : public Broker, public std::enable_shared_from_this<MemoryBroker> {
 public:
  explicit MemoryBroker(BrokerOptions options) : options_(std::move(options)) {}

  Status Connect() override {
    std::lock_guard lock(mu_);
    connected_ = true;
    return {};
  }

  Status Disconnect() override {
    std::lock_guard lock(mu_);
    for (auto& [topic, subs] : subs_) {
      for (auto& s : subs) s->active = false;
    }
    subs_.clear();
    connected_ = false;
    return {};
  }

  std::string Address() const override { return {}; }

  Status Publish(std::string_view topic, const Message& message,
                 const broker::PublishOptions&) override {
    if (Status s = broker::CheckTopic(topic); !s) return s;
    std::vector<std::shared_ptr<MemorySub>> targets;
    {
      std::lock_guard lock(mu_);
      if (!connected_) return broker::NotConnected();
      auto it = subs_.find(topic);
      if (it == subs_.end()) return {};
      std::map<std::string, std::vector<std::shared_ptr<MemorySub>>> queues;
      for (const auto& s : it->second) {
        if (s->options.queue.empty()) {
          targets.push_back(s);
        } else {
          queues[s->options.queue].push_back(s);
        }
      }
      for (auto& [queue, members] : queues) {
        targets.push_back(members[next_member_[queue]++ % members.size()]);
      }
    }
    broker::Event event{.topic = std::string(topic), .message = message};
    for (const auto& s : targets) {
      if (!s->active) continue;
      Status result = s->handler(event);
      if (!result) {
        log::Error("Broker memory: subscriber of {} failed: {}", event.topic, result.error());
        if (options_.error_handler) options_.error_handler(event, result.error());
      }
    }
    return {};
  }

  Result<std::unique_ptr<broker::Subscriber>> Subscribe(
      std::string_view topic, broker::Handler handler,
      const broker::SubscribeOptions& options) override {
    if (Status s = broker::CheckTopic(topic); !s) return std::move(s).error();
    if (!handler) return errors::BadRequest(std::string(broker::kErrorId), "no handler");
    auto sub = std::make_shared<MemorySub>();
    sub->topic = std::string(topic);
    sub->options = options;
    sub->handler = std::move(handler);
    {
      std::lock_guard lock(mu_);
      if (!connected_) return broker::NotConnected();
      subs_[sub->topic].push_back(sub);
    }
    return std::unique_ptr<broker::Subscriber>(
        std::make_unique<MemorySubscriber>(weak_from_this(), std::move(sub)));
  }

  void Remove(const std::shared_ptr<MemorySub>& sub) {
    std::lock_guard lock(mu_);
    auto it = subs_.find(sub->topic);
    if (it == subs_.end()) return;
    std::erase(it->second, sub);
    if (it->second.empty()) subs_.erase(it);
  }

  const BrokerOptions& Options() const override { return options_; }
  std::string String() const override { return "memory"; }

 private:
  BrokerOptions options_;
  std::mutex mu_;
  bool connected_ = false;
  std::map<std::string, std::vector<std::shared_ptr<MemorySub>>, std::less<>> subs_;
  std::map<std::string, std::size_t> next_member_;  // round robin per queue
};

Status MemorySubscriber::Unsubscribe() {
  if (!sub_->active.exchange(false)) return {};
  if (auto broker = broker_.lock()) broker->Remove(sub_);
  return {};
}

}  // namespace

Result<std::shared_ptr<Broker>> NewMemoryBroker(BrokerOptions options) {
  return std::shared_ptr<Broker>(std::make_shared<MemoryBroker>(std::move(options)));
}

}  // namespace micro
