// Codecs: how a message body is framed for each go-micro content type.
//
// A codec turns a typed body (a protobuf message, or raw bytes passed through untouched) plus
// the call's header fields (id, method, error...) into the body of one transport message, and
// back. Framed legacy codecs (json-rpc, proto-rpc, grpc) carry some header fields inside the
// body; the plain ones (json, protobuf, octet-stream) carry only the payload.
//
//   Content-Type              name       body on the wire
//   application/json          json       protobuf JSON + "\n"
//   application/protobuf      proto      protobuf bytes
//   application/octet-stream  bytes      raw bytes
//   application/json-rpc      jsonrpc    {"method","params":[body],"id"} / {"id","result","error"}
//   application/proto-rpc     protorpc   netstring(header proto) + netstring(body)
//   application/grpc[+proto]  grpc       1-byte flag + 4-byte big-endian length + protobuf
//   application/grpc+json     grpc       1-byte flag + 4-byte big-endian length + JSON
//
// Errors: decoding bad input gives a 400 Error (id "go.micro.codec"); encoding failures a 500.
// Codecs never throw and never crash on any input (each decoder is fuzzed).
//
// Threading: Codec objects are immutable after construction; one instance may be used from
// any number of threads at once. The content-type table is safe to read concurrently;
// RegisterCodec is meant for start-up.
#pragma once

#include <micro/metadata.h>
#include <micro/status.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace micro::codec {

enum class MessageType { kError = 0, kRequest = 1, kResponse = 2, kEvent = 3 };

// The header fields of one message, as go-micro's codec.Message.
struct Message {
  MessageType type = MessageType::kRequest;
  std::string id;        // Micro-Id: the call's sequence number, decimal
  std::string target;    // Micro-Service
  std::string method;    // Micro-Method, "Handler.Method"
  std::string endpoint;  // Micro-Endpoint, same as method in mucp
  std::string error;     // Micro-Error text, responses only; "EOS" ends a stream
  Metadata header;       // transport headers; Write may add codec headers (grpc-status, ...)
};

// Raw bytes that bypass encoding (go-micro's bytes.Frame): written as they are, and read
// into without decoding. Lets gateways and proxies forward bodies they do not understand.
struct Frame {
  std::string data;
};

// What Write encodes: nothing, a protobuf message, or a frame. Non-owning.
using WriteBody = std::variant<std::monostate, const google::protobuf::Message*, const Frame*>;
// What ReadBody decodes into: nothing (skip), a protobuf message, or a frame. Non-owning.
using ReadBody = std::variant<std::monostate, google::protobuf::Message*, Frame*>;

class Codec {
 public:
  virtual ~Codec() = default;

  // go-micro's codec name: "json", "proto", "bytes", "jsonrpc", "protorpc", "grpc".
  virtual std::string_view String() const = 0;
  // The content type this instance serves, e.g. "application/json".
  virtual std::string_view ContentType() const = 0;

  // Encodes msg and body into `out` (the transport message body; replaced, not appended).
  // May add codec-specific headers to msg.header.
  virtual Status Write(Message& msg, WriteBody body, std::string& out) const = 0;

  // Reads the header fields that the framing carries (id, method, error...) into msg and
  // sets `payload` to the part of `frame` that holds the encoded body (a view into frame).
  // msg.type says what is expected (request or response). Fields the framing does not
  // carry are left as they are, so callers fill them from transport headers first.
  virtual Status ReadHeader(std::string_view frame, Message& msg,
                            std::string_view& payload) const = 0;

  // Decodes payload (from ReadHeader) into body. An empty payload leaves a message empty.
  virtual Status Read(std::string_view payload, ReadBody body) const = 0;
};

// Options for the application/json codec.
struct JsonOptions {
  // false (default): protobuf JSON names, lowerCamelCase, as go-micro v6 (protojson).
  // true: the .proto field names (snake_case), as go-micro up to v5 wrote them.
  bool original_field_names = false;
  // Write fields that hold their default value (protojson's EmitUnpopulated).
  bool emit_defaults = false;
};

// Limits every decoder enforces.
inline constexpr std::size_t kMaxGrpcMessageSize = 4 * 1024 * 1024;  // go-micro's 4 MiB
inline constexpr int kMaxJsonDepth = 100;  // deeper JSON is rejected before parsing

// Codec constructors, for callers that want a specific one.
std::shared_ptr<const Codec> NewJsonCodec(JsonOptions options = {});
std::shared_ptr<const Codec> NewProtoCodec();
std::shared_ptr<const Codec> NewBytesCodec();
std::shared_ptr<const Codec> NewJsonRpcCodec(JsonOptions options = {});
std::shared_ptr<const Codec> NewProtoRpcCodec();
// content_type: application/grpc, application/grpc+proto or application/grpc+json.
std::shared_ptr<const Codec> NewGrpcCodec(std::string_view content_type = "application/grpc");

// The codec for a Content-Type value. Parameters ("; charset=utf-8") and letter case are
// ignored. An unknown type is a 400 Error naming every known content type.
Result<std::shared_ptr<const Codec>> Lookup(std::string_view content_type);

// Adds or replaces the codec for a content type (e.g. a plugin codec, or JSON with
// original field names). Meant for start-up, before calls are made.
void RegisterCodec(std::string_view content_type, std::shared_ptr<const Codec> codec);

// Every content type the table knows, sorted.
std::vector<std::string> ContentTypes();

// The Content-Type value without parameters, lower-cased: "Application/JSON; x=y" ->
// "application/json".
std::string NormalizeContentType(std::string_view content_type);

}  // namespace micro::codec
