// Server subscribers: handlers for broker messages, registered on a Server (go-micro's
// server.Subscriber), and the typed helpers that build them.
//
//   micro::Subscribe<audit::Event>(service.Server(), "events",
//       [](micro::Context& ctx, const audit::Event& e) {
//         std::cout << ctx.metadata().GetOr("Micro-Topic") << ": " << e.DebugString();
//         return micro::Status{};
//       }, {.queue = "audit"});
//
// When the server starts it connects its broker and makes one broker subscription per
// (topic, queue): several subscribers of one topic and queue share it, and each message is
// decoded once per subscriber with the codec named by its Content-Type (default
// application/protobuf) and handed to every one of them. Their errors are joined into one
// 500 "subscriber error: ..." reported to the broker's error handler. Subscribers are
// advertised as endpoints with metadata {"topic": ..., "subscriber": "true"}.
//
// Subscriber wrappers (go-micro's server.SubscriberWrapper, ServerOptions::subscriber_wrappers)
// see every decoded message before the handler, first listed outermost; one that returns an
// error without calling next keeps the message from the handler (the error is reported as the
// handler's). They run where the handler runs and are stored by the server for its lifetime.
//
// Threading: handlers run on the broker's delivery threads; they may block.
// Errors: Server::Subscribe fails (400) for an empty topic or a missing handler; a message that
// cannot be decoded is reported as a 400 and not handed to the subscriber.
#pragma once

#include <google/protobuf/message.h>
#include <micro/context.h>
#include <micro/metadata.h>
#include <micro/status.h>

#include <functional>
#include <string>
#include <string_view>

namespace micro {

class Server;

struct SubscriberOptions {
  std::string queue{};    // broker queue: members of one queue share the messages
  bool auto_ack = true;   // ack after the handler returns ok
  bool internal = false;  // not advertised in the registry
  std::string name{};     // endpoint name in the registry; empty: the message type's name
};

// A delivered message as subscriber wrappers see it (valid during the call).
struct SubscriberMessage {
  std::string_view topic;
  std::string_view content_type;
  const Metadata& header;                 // the message's headers (also in ctx.metadata())
  const google::protobuf::Message& body;  // decoded into the subscriber's message type
};

using SubscriberFunc = std::function<Status(Context& ctx, const SubscriberMessage& msg)>;
using SubscriberWrapper = std::function<SubscriberFunc(SubscriberFunc next)>;

// One subscriber. `message` is the type messages are decoded into (also its registry
// description); the handler gets a message of exactly that type.
struct ServerSubscriber {
  std::string topic;
  SubscriberOptions options;
  const google::protobuf::Descriptor* message = nullptr;
  std::function<Status(Context&, const google::protobuf::Message&)> handler;
};

// Typed helper: decodes into Msg.
template <class Msg>
ServerSubscriber NewSubscriber(std::string topic, std::function<Status(Context&, const Msg&)> fn,
                               SubscriberOptions options = {}) {
  ServerSubscriber s;
  s.topic = std::move(topic);
  s.options = std::move(options);
  s.message = Msg::descriptor();
  s.handler = [fn = std::move(fn)](Context& ctx, const google::protobuf::Message& m) {
    return fn(ctx, static_cast<const Msg&>(m));
  };
  return s;
}

// Adds a typed subscriber to server (before or after Start).
template <class Msg, class Fn>
Status Subscribe(Server& server, std::string topic, Fn&& fn, SubscriberOptions options = {});

}  // namespace micro
