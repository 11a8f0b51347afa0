// Internal: counters of the mDNS registry, for tests and diagnostics.
#pragma once

#include <micro/registry.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace micro::mdns {

struct Stats {
  uint64_t packets = 0;                      // datagrams received on the mDNS socket
  uint64_t malformed = 0;                    // of which could not be decoded (dropped)
  uint64_t answered = 0;                     // queries we answered
  bool ipv4 = false;                         // the IPv4 socket (224.0.0.251) is open
  bool ipv6 = false;                         // the IPv6 socket (ff02::fb) is open
  std::vector<std::string> ipv4_interfaces;  // addresses joined on ("default": kernel's choice)
  std::vector<unsigned> ipv6_interfaces;     // interface indexes joined on (empty: default)
};

// The counters of an mDNS registry (nullopt for other registries).
std::optional<Stats> GetStats(Registry& registry);

}  // namespace micro::mdns
