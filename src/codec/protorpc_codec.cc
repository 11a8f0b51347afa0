// application/proto-rpc: net/rpc style netstrings, as go-micro's codec/protorpc.
//   request:  be32(len) Request{service_method, seq}  be32(len) body
//   response: be32(len) Response{service_method, seq, error}  be32(len) body
//   event:    the body's protobuf bytes alone
#include <fmt/format.h>

#include "codec/body.h"
#include "protorpc.pb.h"

namespace micro::codec {
namespace {

void AppendBe32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

// Reads one netstring at frame[pos...]; advances pos.
bool ReadNetstring(std::string_view frame, size_t& pos, std::string_view& out) {
  if (frame.size() - pos < 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(frame.data() + pos);
  const uint32_t len =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  pos += 4;
  if (frame.size() - pos < len) return false;
  out = frame.substr(pos, len);
  pos += len;
  return true;
}

class ProtoRpcCodec final : public Codec {
 public:
  std::string_view String() const override { return "protorpc"; }
  std::string_view ContentType() const override { return "application/proto-rpc"; }

  Status Write(Message& msg, WriteBody body, std::string& out) const override {
    out.clear();
    if (msg.type == MessageType::kEvent) return internal::AppendProto(String(), body, out);
    std::string header;
    if (msg.type == MessageType::kRequest) {
      ::micro::internal::protorpc::Request req;
      req.set_service_method(msg.method);
      req.set_seq(internal::ParseId(msg.id));
      req.SerializeToString(&header);
    } else {
      ::micro::internal::protorpc::Response rsp;
      rsp.set_service_method(msg.method);
      rsp.set_seq(internal::ParseId(msg.id));
      rsp.set_error(msg.error);
      rsp.SerializeToString(&header);
    }
    AppendBe32(out, static_cast<uint32_t>(header.size()));
    out += header;
    const size_t length_at = out.size();
    AppendBe32(out, 0);
    if (auto s = internal::AppendProto(String(), body, out); !s) return s;
    const size_t body_size = out.size() - length_at - 4;
    if (body_size > UINT32_MAX) return internal::EncodeError(String(), "body over 4 GiB");
    std::string length;
    AppendBe32(length, static_cast<uint32_t>(body_size));
    out.replace(length_at, 4, length);
    return {};
  }

  Status ReadHeader(std::string_view frame, Message& msg,
                    std::string_view& payload) const override {
    if (msg.type == MessageType::kEvent) {
      payload = frame;
      return {};
    }
    size_t pos = 0;
    std::string_view header;
    if (!ReadNetstring(frame, pos, header)) {
      return internal::DecodeError(String(), "truncated header netstring");
    }
    const int header_size = static_cast<int>(header.size());
    if (msg.type == MessageType::kRequest) {
      ::micro::internal::protorpc::Request req;
      if (!req.ParseFromArray(header.data(), header_size)) {
        return internal::DecodeError(String(), "invalid request header");
      }
      msg.method = req.service_method();
      if (msg.endpoint.empty()) msg.endpoint = msg.method;
      msg.id = std::to_string(req.seq());
    } else {
      ::micro::internal::protorpc::Response rsp;
      if (!rsp.ParseFromArray(header.data(), header_size)) {
        return internal::DecodeError(String(), "invalid response header");
      }
      msg.method = rsp.service_method();
      msg.id = std::to_string(rsp.seq());
      msg.error = rsp.error();
    }
    if (!ReadNetstring(frame, pos, payload)) {
      return internal::DecodeError(String(), "truncated body netstring");
    }
    if (pos != frame.size()) {
      return internal::DecodeError(String(),
                                   fmt::format("{} bytes after the body", frame.size() - pos));
    }
    return {};
  }

  Status Read(std::string_view payload, ReadBody body) const override {
    return internal::ReadProto(String(), payload, body);
  }
};

}  // namespace

std::shared_ptr<const Codec> NewProtoRpcCodec() { return std::make_shared<ProtoRpcCodec>(); }

}  // namespace micro::codec
