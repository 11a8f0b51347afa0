// Internal: counters of the mDNS registry, for tests and diagnostics.
#pragma once

#include <micro/registry.h>

#include <cstdint>
#include <optional>

namespace micro::mdns {

struct Stats {
  uint64_t packets = 0;    // datagrams received on the mDNS socket
  uint64_t malformed = 0;  // of which could not be decoded (dropped)
  uint64_t answered = 0;   // queries we answered
};

// The counters of an mDNS registry (nullopt for other registries).
std::optional<Stats> GetStats(Registry& registry);

}  // namespace micro::mdns
