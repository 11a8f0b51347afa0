#include "client/publish.h"

#include "micro/broker.h"
#include "micro/util.h"

namespace micro::client_detail {

Status Publish(const ClientOptions& options, Context& ctx, std::string_view topic,
               codec::WriteBody body, const MessageOptions& opts) {
  if (!options.broker) {
    return errors::InternalServerError(error_ids::kClient, "no broker to publish with");
  }
  if (topic.empty()) return errors::BadRequest(error_ids::kClient, "publish without a topic");
  const std::string content_type =
      opts.content_type.empty() ? options.content_type : opts.content_type;
  auto codec = codec::Lookup(content_type);
  if (!codec) return codec.error();

  Message message;
  message.header = ctx.metadata();
  message.header.Set("Content-Type", content_type);
  message.header.Set("Micro-Topic", std::string(topic));
  // Spelled as go-micro v4-v6 write it: broker messages are not HTTP headers, so nothing
  // canonicalises the key, and a Go subscriber reads the literal "Micro-ID".
  message.header.Delete("Micro-Id");
  message.header.Set("Micro-ID", NewUuid());
  codec::Message header{.type = codec::MessageType::kEvent, .id = "", .target = std::string(topic)};
  if (Status s = (*codec)->Write(header, body, message.body); !s) return s;
  if (Status s = options.broker->Connect(); !s) return s;  // idempotent: lazily, once
  const std::string_view destination = opts.exchange.empty() ? topic : opts.exchange;
  return options.broker->Publish(destination, message);
}

}  // namespace micro::client_detail
