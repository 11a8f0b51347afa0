// application/json-rpc: JSON-RPC 1.0 envelopes, as Go's net/rpc/jsonrpc and go-micro write them.
//   request:  {"method":"Greeter.Hello","params":[{...}],"id":0}\n
//   response: {"id":0,"result":{...},"error":null}\n
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "codec/body.h"
#include "util/json_text.h"

namespace micro::codec {
namespace {

bool IsDecimal(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

class JsonRpcCodec final : public Codec {
 public:
  explicit JsonRpcCodec(JsonOptions options) : options_(options) {}
  std::string_view String() const override { return "jsonrpc"; }
  std::string_view ContentType() const override { return "application/json-rpc"; }

  Status Write(Message& msg, WriteBody body, std::string& out) const override {
    out.clear();
    if (msg.type == MessageType::kRequest) {
      out += "{\"method\":";
      util::AppendGoJsonString(out, msg.method);
      out += ",\"params\":[";
      if (auto s = internal::AppendJson(String(), body, options_, out, true); !s) return s;
      out += "],\"id\":";
      out += std::to_string(internal::ParseId(msg.id));
    } else {
      // Go's net/rpc clients want a numeric id; other ids are echoed as strings.
      out += "{\"id\":";
      if (IsDecimal(msg.id)) {
        out += msg.id;
      } else {
        util::AppendGoJsonString(out, msg.id);
      }
      out += ",\"result\":";
      if (auto s = internal::AppendJson(String(), body, options_, out, true); !s) return s;
      out += ",\"error\":";
      if (msg.error.empty()) {
        out += "null";
      } else {
        util::AppendGoJsonString(out, msg.error);
      }
    }
    out += "}\n";
    return {};
  }

  Status ReadHeader(std::string_view frame, Message& msg,
                    std::string_view& payload) const override {
    if (util::JsonNestingDepth(frame, kMaxJsonDepth) > kMaxJsonDepth) {
      return internal::DecodeError(String(), "JSON nested too deeply");
    }
    auto doc = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
      return internal::DecodeError(String(), "envelope is not a JSON object");
    }
    if (auto s = ReadId(doc, msg); !s) return s;
    payload = {};
    if (msg.type == MessageType::kRequest) {
      auto method = doc.find("method");
      if (method == doc.end() || !method->is_string()) {
        return internal::DecodeError(String(), "request has no method");
      }
      msg.method = method->get<std::string>();
      msg.endpoint = msg.method;
      auto params = doc.find("params");
      if (params != doc.end() && !params->is_null()) {
        if (!params->is_array() || params->size() > 1) {
          return internal::DecodeError(String(), "params must be an array of one value");
        }
        if (!params->empty()) {
          // The raw text of the only element: a view into frame, no re-serialisation.
          auto found = util::FindTopLevelValue(frame, "params");
          if (!found) return internal::DecodeError(String(), "params key is escaped");
          auto raw = util::TrimJsonSpace(*found);
          payload = util::TrimJsonSpace(raw.substr(1, raw.size() - 2));
        }
      }
    } else {
      if (auto s = ReadError(doc, msg); !s) return s;
      if (auto raw = util::FindTopLevelValue(frame, "result")) payload = *raw;
    }
    if (payload == "null") payload = {};
    return {};
  }

  Status Read(std::string_view payload, ReadBody body) const override {
    return internal::ReadJson(String(), payload, body);
  }

 private:
  Status ReadId(const nlohmann::json& doc, Message& msg) const {
    auto id = doc.find("id");
    if (id == doc.end() || id->is_null()) {
      msg.id.clear();
    } else if (id->is_number_unsigned()) {
      msg.id = std::to_string(id->get<uint64_t>());
    } else if (id->is_number_integer()) {
      msg.id = std::to_string(id->get<int64_t>());
    } else if (id->is_string()) {
      msg.id = id->get<std::string>();
    } else {
      return internal::DecodeError(String(), "id must be a number or a string");
    }
    return {};
  }

  Status ReadError(const nlohmann::json& doc, Message& msg) const {
    auto error = doc.find("error");
    if (error == doc.end() || error->is_null()) return {};
    if (!error->is_string()) {
      return internal::DecodeError(String(), fmt::format("invalid error {}", error->dump()));
    }
    msg.error = error->get<std::string>();
    if (msg.error.empty()) msg.error = "unspecified error";
    return {};
  }

  JsonOptions options_;
};

}  // namespace

std::shared_ptr<const Codec> NewJsonRpcCodec(JsonOptions options) {
  return std::make_shared<JsonRpcCodec>(options);
}

}  // namespace micro::codec
