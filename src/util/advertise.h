// The address a server puts in the registry.
#pragma once

#include <string>
#include <string_view>

namespace micro::util {

// advertise when given; else the listen address, with an unspecified host ("", 0.0.0.0, ::)
// replaced by this machine's first private IPv4 address on a non-loopback interface, else its
// first other non-loopback IPv4 address, else 127.0.0.1 (go-micro's addr.Extract).
std::string AdvertiseAddress(std::string_view listen_addr, std::string_view advertise);

}  // namespace micro::util
