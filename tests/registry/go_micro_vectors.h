// Test vectors from reference/go-micro-wire.md: the mDNS registration of go-micro v5.5.0's
// greeter (service "greeter", node greeter-9f6a8c45-..., 127.0.0.1:18080, host "vm").
#pragma once

#include <string_view>

namespace micro::testing {

// The decoded TXT JSON of the capture, as Go's json.Marshal writes it (compact).
inline constexpr std::string_view kCapturedTxtJson =
    R"({"Metadata":{"broker":"http","protocol":"mucp","registry":"mdns","server":"mucp",)"
    R"("transport":"http"},"Service":"greeter","Version":"latest","Endpoints":[{"request":)"
    R"({"name":"Request","type":"Request","values":[{"name":"name","type":"string","values":)"
    R"(null}]},"response":{"name":"Response","type":"Response","values":[{"name":"msg",)"
    R"("type":"string","values":null}]},"metadata":{},"name":"Greeter.Hello"}]})";

inline constexpr std::string_view kCapturedNodeId = "greeter-9f6a8c45-96a5-4641-8bca-f02b69a640a4";
inline constexpr std::string_view kCapturedInstance =
    "greeter-9f6a8c45-96a5-4641-8bca-f02b69a640a4.greeter.micro.";

}  // namespace micro::testing
