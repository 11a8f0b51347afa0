// Shared pieces of the codecs: protobuf <-> JSON, raw protobuf, and the error helpers.
#pragma once

#include <string>
#include <string_view>

#include "micro/codec.h"

namespace micro::codec::internal {

inline constexpr std::string_view kErrorId = error_ids::kCodec;

// 400: the input could not be decoded.
Error DecodeError(std::string_view codec, std::string_view what);
// 500: the value could not be encoded.
Error EncodeError(std::string_view codec, std::string_view what);

// Appends the JSON form of body (no trailing newline). A Frame is appended as it is;
// nothing appends "null" when null_for_nothing, else nothing at all.
Status AppendJson(std::string_view codec, WriteBody body, const JsonOptions& options,
                  std::string& out, bool null_for_nothing = false);
// Decodes JSON text into body. Empty text (or only whitespace) clears a message.
Status ReadJson(std::string_view codec, std::string_view json, ReadBody body);

// Protobuf wire form of body; a Frame is taken as it is.
Status AppendProto(std::string_view codec, WriteBody body, std::string& out);
Status ReadProto(std::string_view codec, std::string_view bytes, ReadBody body);

// Decimal text of an unsigned id ("" and garbage read as 0, as go-micro's protorpc does).
uint64_t ParseId(std::string_view id);

}  // namespace micro::codec::internal
