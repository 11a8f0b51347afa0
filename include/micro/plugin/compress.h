// zlib's deflate format, as go-micro uses it for registry records (mDNS TXT records, Consul
// tags). Pure functions, safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace micro::plugin {

// data compressed as one zlib stream (default level).
std::string Deflate(std::string_view data);

// The inflated zlib stream, or nullopt when data is not one complete zlib stream or inflates to
// more than limit bytes (a small record must not be able to exhaust memory).
std::optional<std::string> Inflate(std::string_view data, std::size_t limit);

}  // namespace micro::plugin
