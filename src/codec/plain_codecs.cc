// The plain codecs: the transport body is the encoded payload and nothing else.
#include "codec/body.h"

namespace micro::codec {
namespace {

class JsonCodec final : public Codec {
 public:
  explicit JsonCodec(JsonOptions options) : options_(options) {}
  std::string_view String() const override { return "json"; }
  std::string_view ContentType() const override { return "application/json"; }

  Status Write(Message&, WriteBody body, std::string& out) const override {
    out.clear();
    if (std::holds_alternative<std::monostate>(body)) return {};
    if (auto* frame = std::get_if<const Frame*>(&body)) {  // bypasses encoding entirely
      out = (*frame)->data;
      return {};
    }
    if (auto s = internal::AppendJson(String(), body, options_, out); !s) return s;
    out += '\n';  // Go's json.Encoder ends every value with a newline
    return {};
  }

  Status ReadHeader(std::string_view frame, Message&, std::string_view& payload) const override {
    payload = frame;
    return {};
  }

  Status Read(std::string_view payload, ReadBody body) const override {
    return internal::ReadJson(String(), payload, body);
  }

 private:
  JsonOptions options_;
};

// application/protobuf and application/octet-stream: raw bytes. Both also accept protobuf
// messages (go-micro's bytes codec only takes raw frames; accepting more costs nothing).
class RawCodec final : public Codec {
 public:
  RawCodec(std::string_view name, std::string_view content_type)
      : name_(name), content_type_(content_type) {}
  std::string_view String() const override { return name_; }
  std::string_view ContentType() const override { return content_type_; }

  Status Write(Message&, WriteBody body, std::string& out) const override {
    out.clear();
    return internal::AppendProto(String(), body, out);
  }

  Status ReadHeader(std::string_view frame, Message&, std::string_view& payload) const override {
    payload = frame;
    return {};
  }

  Status Read(std::string_view payload, ReadBody body) const override {
    return internal::ReadProto(String(), payload, body);
  }

 private:
  std::string_view name_;
  std::string_view content_type_;
};

}  // namespace

std::shared_ptr<const Codec> NewJsonCodec(JsonOptions options) {
  return std::make_shared<JsonCodec>(options);
}

std::shared_ptr<const Codec> NewProtoCodec() {
  return std::make_shared<RawCodec>("proto", "application/protobuf");
}

std::shared_ptr<const Codec> NewBytesCodec() {
  return std::make_shared<RawCodec>("bytes", "application/octet-stream");
}

}  // namespace micro::codec
