#include "codec/body.h"

#include <fmt/format.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>

#include "codec/fast_json.h"
#include "util/json_text.h"

namespace micro::codec::internal {
namespace {

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Error DecodeError(std::string_view codec, std::string_view what) {
  return errors::BadRequest(std::string(kErrorId), "{} codec: {}", codec, what);
}

Error EncodeError(std::string_view codec, std::string_view what) {
  return errors::InternalServerError(std::string(kErrorId), "{} codec: {}", codec, what);
}

Status AppendJson(std::string_view codec, WriteBody body, const JsonOptions& options,
                  std::string& out, bool null_for_nothing) {
  if (auto* frame = std::get_if<const Frame*>(&body)) {
    std::string_view data = (*frame)->data;
    while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.remove_suffix(1);
    out.append(data);
    return {};
  }
  if (auto* msg = std::get_if<const google::protobuf::Message*>(&body)) {
    if (FastAppendJson(**msg, options, out)) return {};
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = options.original_field_names;
    print.always_print_primitive_fields = options.emit_defaults;
    std::string json;
    const auto status = google::protobuf::util::MessageToJsonString(**msg, &json, print);
    if (!status.ok()) return EncodeError(codec, status.message().as_string());
    out += json;
    return {};
  }
  if (null_for_nothing) out += "null";
  return {};
}

Status ReadJson(std::string_view codec, std::string_view json, ReadBody body) {
  if (auto* frame = std::get_if<Frame*>(&body)) {
    (*frame)->data.assign(json);
    return {};
  }
  auto* const* msg = std::get_if<google::protobuf::Message*>(&body);
  if (!msg) return {};
  (*msg)->Clear();
  if (IsBlank(json) || json == "null") return {};
  if (FastReadJson(json, **msg)) return {};
  (*msg)->Clear();  // the fast path declined: protobuf's utility reads it (or says what is wrong)
  if (util::JsonNestingDepth(json, kMaxJsonDepth) > kMaxJsonDepth) {
    return DecodeError(codec, fmt::format("JSON nested deeper than {}", kMaxJsonDepth));
  }
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;  // newer peers may send fields we do not know
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), *msg, parse);
  if (!status.ok()) return DecodeError(codec, status.message().as_string());
  return {};
}

Status AppendProto(std::string_view codec, WriteBody body, std::string& out) {
  if (auto* frame = std::get_if<const Frame*>(&body)) {
    out.append((*frame)->data);
    return {};
  }
  if (auto* msg = std::get_if<const google::protobuf::Message*>(&body)) {
    if (!(*msg)->AppendToString(&out)) {
      return EncodeError(codec, fmt::format("cannot serialise {}", (*msg)->GetTypeName()));
    }
  }
  return {};
}

Status ReadProto(std::string_view codec, std::string_view bytes, ReadBody body) {
  if (auto* frame = std::get_if<Frame*>(&body)) {
    (*frame)->data.assign(bytes);
    return {};
  }
  auto* const* msg = std::get_if<google::protobuf::Message*>(&body);
  if (!msg) return {};
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !(*msg)->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return DecodeError(codec,
                       fmt::format("invalid {} ({} bytes)", (*msg)->GetTypeName(), bytes.size()));
  }
  return {};
}

uint64_t ParseId(std::string_view id) {
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (ec != std::errc() || ptr != id.data() + id.size()) return 0;
  return v;
}

}  // namespace micro::codec::internal
