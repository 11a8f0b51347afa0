// application/grpc, application/grpc+proto, application/grpc+json: one gRPC length-prefixed
// message per transport message (1-byte compressed flag, 4-byte big-endian length, payload),
// with the pseudo headers go-micro's grpc codec sets. Compressed messages are refused.
#include <fmt/format.h>

#include "codec/body.h"

namespace micro::codec {
namespace {

class GrpcCodec final : public Codec {
 public:
  GrpcCodec(std::string content_type, bool json)
      : content_type_(std::move(content_type)), json_(json) {}
  std::string_view String() const override { return "grpc"; }
  std::string_view ContentType() const override { return content_type_; }

  Status Write(Message& msg, WriteBody body, std::string& out) const override {
    out.clear();
    auto& h = msg.header;
    switch (msg.type) {
      case MessageType::kRequest: {
        const auto dot = msg.endpoint.find('.');
        if (dot == std::string::npos) {
          return internal::EncodeError(
              String(), fmt::format("endpoint \"{}\" is not Handler.Method", msg.endpoint));
        }
        h.Set(":method", "POST");
        h.Set(":path", fmt::format("/{}.{}/{}", msg.target, msg.endpoint.substr(0, dot),
                                   msg.endpoint.substr(dot + 1)));
        h.Set(":proto", "HTTP/2.0");
        h.Set("te", "trailers");
        h.Set(":authority", msg.target);
        h.Set("content-type", content_type_);
        break;
      }
      case MessageType::kResponse:
        h.Set("Trailer", "grpc-status");
        h.Set("content-type", content_type_);
        h.Set(":status", "200");
        h.Set("grpc-status", "0");
        break;
      case MessageType::kError:
        h.Set("Trailer", "grpc-status, grpc-message");
        if (msg.error == "EOS") {  // go-micro's end of stream is a clean gRPC end
          h.Set("grpc-status", "0");
        } else {
          h.Set("grpc-message", msg.error);
          h.Set("grpc-status", "13");
        }
        return {};
      case MessageType::kEvent:
        break;
    }
    out.assign(5, '\0');
    const Status encoded = json_ ? internal::AppendJson(String(), body, {}, out)
                                 : internal::AppendProto(String(), body, out);
    const size_t size = out.size() - 5;
    Status result = encoded;
    if (encoded && size > kMaxGrpcMessageSize) {
      result = internal::EncodeError(
          String(), fmt::format("message larger than max ({} vs. {})", size, kMaxGrpcMessageSize));
    }
    if (!result) {
      h.Set("grpc-status", "8");
      h.Set("grpc-message", result.error().detail);
      out.clear();
      return result;
    }
    if (size == 0) {  // as go-micro: an empty message writes no frame at all
      out.clear();
      return {};
    }
    out[1] = static_cast<char>(size >> 24);
    out[2] = static_cast<char>(size >> 16);
    out[3] = static_cast<char>(size >> 8);
    out[4] = static_cast<char>(size);
    return {};
  }

  Status ReadHeader(std::string_view frame, Message& msg,
                    std::string_view& payload) const override {
    if (auto path = msg.header.Get(":path"); path && !path->empty() && path->front() == '/') {
      // "/a.package.Handler/Method" -> target "a.package", endpoint "Handler.Method"
      const auto slash = path->find('/', 1);
      if (slash == std::string_view::npos || path->find('/', slash + 1) != std::string_view::npos) {
        return internal::DecodeError(String(), "unknown request path");
      }
      const auto service = path->substr(1, slash - 1);
      const auto dot = service.rfind('.');
      const auto handler = dot == std::string_view::npos ? service : service.substr(dot + 1);
      msg.target = dot == std::string_view::npos ? "" : std::string(service.substr(0, dot));
      msg.endpoint = fmt::format("{}.{}", handler, path->substr(slash + 1));
      msg.method = msg.endpoint;
    }
    if (auto grpc_message = msg.header.Get("grpc-message");
        grpc_message && !grpc_message->empty()) {
      msg.error = std::string(*grpc_message);
    }
    payload = {};
    if (frame.empty()) return {};
    if (frame.size() < 5) return internal::DecodeError(String(), "truncated message prefix");
    const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
    if (p[0] != 0) return internal::DecodeError(String(), "compressed messages are not supported");
    const uint32_t length =
        (uint32_t{p[1]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 8) | p[4];
    if (length > kMaxGrpcMessageSize) {
      return internal::DecodeError(
          String(),
          fmt::format("received message larger than max ({} vs. {})", length, kMaxGrpcMessageSize));
    }
    if (frame.size() - 5 != length) {
      return internal::DecodeError(
          String(), fmt::format("message length {} does not match the {} bytes received", length,
                                frame.size() - 5));
    }
    payload = frame.substr(5);
    return {};
  }

  Status Read(std::string_view payload, ReadBody body) const override {
    return json_ ? internal::ReadJson(String(), payload, body)
                 : internal::ReadProto(String(), payload, body);
  }

 private:
  std::string content_type_;
  bool json_;
};

}  // namespace

std::shared_ptr<const Codec> NewGrpcCodec(std::string_view content_type) {
  const std::string ct = NormalizeContentType(content_type);
  return std::make_shared<GrpcCodec>(ct, ct == "application/grpc+json");
}

}  // namespace micro::codec
