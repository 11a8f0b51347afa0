// "host:port" handling for the socket transports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "micro/status.h"

namespace micro::transport_detail {

struct HostPort {
  std::string host;  // without brackets; empty for "any"
  uint16_t min_port = 0;
  uint16_t max_port = 0;  // == min_port unless a range "host:min-max" was given
};

// Parses "host:port", ":port", "[v6]:port", "host:min-max". The port is required.
Result<HostPort> ParseHostPort(std::string_view addr);

// "ip:port", with brackets for IPv6, as Go's net.JoinHostPort.
std::string JoinHostPort(std::string_view host, uint16_t port);

}  // namespace micro::transport_detail
