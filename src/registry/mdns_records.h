// go-micro's mDNS encoding: the TXT payload (JSON -> zlib -> lowercase hex -> <=255-char
// strings), the records one node or one service wildcard announces, and turning received
// records back into service entries.
#pragma once

#include <micro/registry.h>

#include <optional>
#include <string>
#include <vector>

#include "registry/dns_message.h"
#include "registry/service_json.h"

namespace micro::mdns {

inline constexpr uint32_t kRecordTtl = 120;  // seconds, as go-micro
inline constexpr uint16_t kWildcardPort = 9999;
inline constexpr size_t kMaxInflated = 1 << 20;  // refuse TXT payloads inflating past 1 MiB

// JSON -> zlib (default level) -> lowercase hex -> strings of at most 255 characters.
std::vector<std::string> EncodeTxt(const registry::MdnsTxt& txt);
// Concatenate, hex-decode, inflate (bounded), parse. Any failure is a 400 Error.
Result<registry::MdnsTxt> DecodeTxt(const std::vector<std::string>& strings);

// What one node announces. Fails for an address that is not "ip:port".
struct NodeZone {
  std::string service{};   // service name
  std::string instance{};  // "<node id>.<service>.<domain>."
  std::string host{};      // "<hostname>." (SRV target, A/AAAA owner)
  uint16_t port = 0;
  std::optional<std::array<uint8_t, 4>> ipv4{};
  std::optional<std::array<uint8_t, 16>> ipv6{};
  std::vector<std::string> txt{};
};

Result<NodeZone> MakeNodeZone(const registry::Service& service, const registry::Node& node,
                              std::string_view domain, std::string_view hostname);
// go-micro's `_services` wildcard entry for a service name (for ListServices).
NodeZone MakeWildcardZone(std::string_view service, std::string_view domain,
                          std::string_view hostname);

// "<service>.<domain>." and "_services.<domain>.".
std::string ServiceName(std::string_view service, std::string_view domain);

// PTR <service>.<domain>. -> instance, then SRV, TXT, A/AAAA (all with `ttl`).
std::vector<dns::Record> ZoneRecords(const NodeZone& zone, std::string_view domain, uint32_t ttl);
// The records of `zone` that answer question q (empty when q is not about it).
std::vector<dns::Record> Answer(const NodeZone& zone, std::string_view domain,
                                const dns::Question& q);

// A service instance assembled from the records of one message (go-micro's ServiceEntry).
struct Entry {
  std::string name{};  // instance name, e.g. "greeter-1.greeter.micro."
  std::string host{};
  uint16_t port = 0;
  std::optional<std::array<uint8_t, 4>> ipv4{};
  std::optional<std::array<uint8_t, 16>> ipv6{};
  std::vector<std::string> txt{};
  bool has_txt = false;
  uint32_t ttl = 0;
  bool Complete() const { return port != 0 && has_txt && (ipv4 || ipv6); }
};
std::vector<Entry> Entries(const dns::Message& message);

// An Entry as a registry Service with one node, if it belongs to `service` in `domain`
// (service empty: any) and its TXT decodes to a Service and Version.
std::optional<registry::Service> ToService(const Entry& entry, std::string_view service,
                                           std::string_view domain);

std::string FormatAddress(const Entry& entry);  // "1.2.3.4:port" (IPv4 preferred) or "[v6]:port"

}  // namespace micro::mdns
