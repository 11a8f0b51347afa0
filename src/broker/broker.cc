// The broker table, go-micro's broker.Message JSON form and the broker's error constructors.
#include "micro/broker.h"

#include <nlohmann/json.hpp>

#include "broker/errors.h"
#include "util/base64.h"
#include "util/json_text.h"

namespace micro {

plugin::Registry<Broker, BrokerOptions>& Brokers() {
  // Never destroyed: brokers may be created by threads still running at exit.
  static auto* table = [] {
    auto* t = new plugin::Registry<Broker, BrokerOptions>("broker");
    t->Register("memory", [](const BrokerOptions& o) -> Result<std::shared_ptr<Broker>> {
      return NewMemoryBroker(o);
    });
    t->Register("http", [](const BrokerOptions& o) { return NewHttpBroker(o); });
    return t;
  }();
  return *table;
}

namespace broker {

Error NotConnected() { return errors::New(std::string(kErrorId), "not connected", 503); }

Error InvalidTopic(std::string_view topic) {
  return errors::BadRequest(std::string(kErrorId), "invalid topic \"{}\"", topic);
}

Status CheckTopic(std::string_view topic) {
  if (topic.empty()) return InvalidTopic(topic);
  for (char c : topic) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return InvalidTopic(topic);
  }
  return {};
}

std::string ToJson(const Message& message) {
  std::string out = R"({"Header":{)";
  bool first = true;
  for (const auto& [key, value] : message.header) {
    if (!first) out.push_back(',');
    first = false;
    util::AppendGoJsonString(out, key);
    out.push_back(':');
    util::AppendGoJsonString(out, value);
  }
  out += R"(},"Body":")";
  out += util::Base64Encode(message.body);
  out += "\"}";
  return out;
}

Result<Message> MessageFromJson(std::string_view json) {
  auto bad = [](std::string_view why) {
    return errors::BadRequest(std::string(kErrorId), "invalid message: {}", why);
  };
  if (util::JsonNestingDepth(json, 10) >= 10) return bad("nested too deeply");
  auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not JSON");
  if (!doc.is_object()) return bad("not a JSON object");
  Message message;
  for (const auto& [key, value] : doc.items()) {
    if (EqualsIgnoreCase(key, "Header")) {
      if (value.is_null()) continue;
      if (!value.is_object()) return bad("Header is not an object");
      message.header.clear();
      for (const auto& [name, text] : value.items()) {
        if (!text.is_string()) return bad("a Header value is not a string");
        message.header.Set(name, text.get<std::string>());
      }
    } else if (EqualsIgnoreCase(key, "Body")) {
      if (value.is_null()) {
        message.body.clear();
        continue;
      }
      if (!value.is_string()) return bad("Body is not a base64 string");
      auto body = util::Base64Decode(value.get_ref<const std::string&>());
      if (!body) return bad("Body is not valid base64");
      message.body = std::move(*body);
    }
  }
  return message;
}

}  // namespace broker
}  // namespace micro
