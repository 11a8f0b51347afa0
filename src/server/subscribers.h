// A server's broker subscribers: grouped by (topic, queue) into one broker subscription each,
// decoded per subscriber with the codec of the message's Content-Type (go-micro §8.6).
//
// Threading: Add/Start/Stop are serialised by the server's lifecycle; deliveries arrive on
// the broker's threads and only read the groups.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "micro/broker.h"
#include "micro/registry.h"
#include "micro/subscriber.h"

namespace micro::server_detail {

class Subscribers {
 public:
  Subscribers(std::string server_name, std::vector<SubscriberWrapper> wrappers = {})
      : server_name_(std::move(server_name)), wrappers_(std::move(wrappers)) {}
  ~Subscribers() { Stop(); }

  // Validates and keeps s; subscribes at once when started.
  Status Add(ServerSubscriber s);
  // Connects broker and subscribes every group. Fails when there are subscribers but no broker.
  Status Start(std::shared_ptr<Broker> broker);
  // Unsubscribes every group (the subscribers are kept for the next Start).
  void Stop();
  // An event that came over the transport rather than the broker (a request carrying
  // Micro-Topic: go-micro's HandleEvent): delivered to every subscriber of its topic, whatever
  // its queue, started or not. Blocks while the handlers run. 404 when nothing subscribes.
  Status HandleEvent(const Message& message) const;
  // Endpoint descriptions of the advertised subscribers, sorted by name.
  std::vector<registry::Endpoint> Endpoints() const;
  bool empty() const;

 private:
  // A subscriber and its handler inside the server's subscriber wrappers.
  struct Member {
    ServerSubscriber subscriber;
    SubscriberFunc run;
  };
  struct Group {
    std::string topic;
    broker::SubscribeOptions options;
    // Copy-on-write under members_mu: a delivery takes a snapshot while Add may replace it.
    // (Deliveries hold the group, not the server: they may outlive a stopped server.)
    std::mutex members_mu;
    std::shared_ptr<const std::vector<Member>> members;
    std::unique_ptr<broker::Subscriber> subscription;
  };
  using Key = std::pair<std::string, std::string>;  // (topic, queue)

  Status SubscribeGroup(const Key& key, Group& group);  // under mu_
  static Status Deliver(const std::string& server_name, Group& group, const broker::Event& event);

  const std::string server_name_;
  const std::vector<SubscriberWrapper> wrappers_;
  mutable std::mutex mu_;
  std::shared_ptr<Broker> broker_;  // set while started
  std::map<Key, std::shared_ptr<Group>> groups_;
};

}  // namespace micro::server_detail
