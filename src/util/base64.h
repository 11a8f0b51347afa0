// Base64 (RFC 4648 standard alphabet, padded), as Go's encoding/base64.StdEncoding: how Go's
// encoding/json writes []byte fields (broker messages, etcd's JSON gateway).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace micro::util {

std::string Base64Encode(std::string_view data);
// nullopt when text is not padded standard base64 (whitespace is not accepted).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace micro::util
