#include "server/subscribers.h"

#include <google/protobuf/message.h>

#include <algorithm>

#include "micro/codec.h"
#include "micro/logger.h"
#include "server/endpoint_description.h"

namespace micro::server_detail {

Status Subscribers::Add(ServerSubscriber s) {
  if (s.topic.empty()) return errors::BadRequest(server_name_, "subscriber without a topic");
  if (!s.handler || !s.message) {
    return errors::BadRequest(server_name_, "subscriber of {} without a handler or message type",
                              s.topic);
  }
  std::lock_guard lock(mu_);
  Key key{s.topic, s.options.queue};
  auto& group = groups_[key];
  if (!group) {
    group = std::make_shared<Group>();
    group->topic = s.topic;
    group->options = {.queue = s.options.queue, .auto_ack = s.options.auto_ack};
  }
  SubscriberFunc run = [handler = s.handler](Context& ctx, const SubscriberMessage& m) {
    return handler(ctx, m.body);
  };
  for (auto it = wrappers_.rbegin(); it != wrappers_.rend(); ++it) run = (*it)(std::move(run));
  {
    std::lock_guard members_lock(group->members_mu);
    auto members = group->members ? std::make_shared<std::vector<Member>>(*group->members)
                                  : std::make_shared<std::vector<Member>>();
    members->push_back({std::move(s), std::move(run)});
    group->members = std::move(members);
  }
  if (broker_ && !group->subscription) return SubscribeGroup(key, *group);
  return {};
}

Status Subscribers::Start(std::shared_ptr<Broker> broker) {
  std::lock_guard lock(mu_);
  if (groups_.empty()) return {};
  if (!broker) return errors::BadRequest(server_name_, "subscribers need a broker");
  if (Status s = broker->Connect(); !s) return s;
  broker_ = std::move(broker);
  for (auto& [key, group] : groups_) {
    if (group->subscription) continue;
    if (Status s = SubscribeGroup(key, *group); !s) return s;
  }
  return {};
}

void Subscribers::Stop() {
  std::vector<std::unique_ptr<broker::Subscriber>> subscriptions;
  {
    std::lock_guard lock(mu_);
    broker_.reset();
    for (auto& [key, group] : groups_) {
      if (group->subscription) subscriptions.push_back(std::move(group->subscription));
    }
  }
  for (auto& s : subscriptions) (void)s->Unsubscribe();  // outside mu_: may wait for delivery
}

Status Subscribers::SubscribeGroup(const Key& key, Group& group) {
  auto sub = broker_->Subscribe(
      group.topic,
      [name = server_name_, g = groups_.at(key)](const broker::Event& e) {
        return Deliver(name, *g, e);
      },
      group.options);
  if (!sub) return std::move(sub).error();
  group.subscription = std::move(*sub);
  log::Info("Subscribing to topic: {}", group.topic);
  return {};
}

Status Subscribers::Deliver(const std::string& server_name, Group& group,
                            const broker::Event& event) {
  std::shared_ptr<const std::vector<Member>> members;
  {
    std::lock_guard lock(group.members_mu);
    members = group.members;
  }
  std::string content_type(event.message.header.GetOr("Content-Type", "application/protobuf"));
  auto codec = codec::Lookup(content_type);
  if (!codec) return codec.error();
  codec::Message header{.type = codec::MessageType::kEvent};
  header.header = event.message.header;
  std::string_view payload;
  if (Status s = (*codec)->ReadHeader(event.message.body, header, payload); !s) return s;

  std::string failures;
  for (const auto& member : *members) {
    std::unique_ptr<google::protobuf::Message> msg(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(member.subscriber.message)
            ->New());
    Status result = (*codec)->Read(payload, msg.get());
    if (result) {
      Context ctx;
      ctx.metadata() = event.message.header;
      const SubscriberMessage delivered{.topic = group.topic,
                                        .content_type = content_type,
                                        .header = event.message.header,
                                        .body = *msg};
      try {
        result = member.run(ctx, delivered);
      } catch (const std::exception& e) {
        result = errors::InternalServerError(server_name, e.what());
      }
    }
    if (!result) {
      if (!failures.empty()) failures += "\n";
      failures += result.error().detail;
    }
  }
  if (failures.empty()) return {};
  return errors::InternalServerError(server_name, "subscriber error: {}", failures);
}

Status Subscribers::HandleEvent(const Message& message) const {
  const std::string topic(message.header.GetOr("Micro-Topic"));
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, group] : groups_) {
      if (key.first == topic) groups.push_back(group);
    }
  }
  if (groups.empty()) {
    return errors::NotFound(server_name_, "no subscriber for topic {}", topic);
  }
  const broker::Event event{.topic = topic, .message = message};
  std::string failures;
  for (const auto& group : groups) {
    if (Status s = Deliver(server_name_, *group, event); !s) {
      if (!failures.empty()) failures += "\n";
      failures += s.error().detail;
    }
  }
  if (failures.empty()) return {};
  return errors::InternalServerError(server_name_, "{}", failures);
}

std::vector<registry::Endpoint> Subscribers::Endpoints() const {
  std::vector<registry::Endpoint> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, group] : groups_) {
    std::lock_guard members_lock(group->members_mu);
    for (const auto& m : *group->members) {
      const ServerSubscriber& member = m.subscriber;
      if (member.options.internal) continue;
      registry::Endpoint e;
      e.name = member.options.name.empty() ? member.message->name() : member.options.name;
      e.request = DescribeMessage(member.message);
      e.metadata = {{"topic", member.topic}, {"subscriber", "true"}};
      out.push_back(std::move(e));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

bool Subscribers::empty() const {
  std::lock_guard lock(mu_);
  return groups_.empty();
}

}  // namespace micro::server_detail
