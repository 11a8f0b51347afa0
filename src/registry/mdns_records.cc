#include "registry/mdns_records.h"

#include <micro/plugin/compress.h>

#include <asio/ip/address.hpp>
#include <charconv>
#include <map>

namespace micro::mdns {
namespace {

constexpr char kHex[] = "0123456789abcdef";

Error BadTxt(std::string_view what) {
  return errors::BadRequest(error_ids::kMdns, "invalid mDNS TXT: {}", what);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && dns::NameEquals(s.substr(s.size() - suffix.size()), suffix);
}

dns::Record Base(std::string name, uint16_t type, uint32_t ttl) {
  dns::Record r;
  r.name = std::move(name);
  r.type = type;
  r.ttl = ttl;
  return r;
}

}  // namespace

std::vector<std::string> EncodeTxt(const registry::MdnsTxt& txt) {
  const std::string z = plugin::Deflate(registry::MdnsTxtJson(txt));
  std::string hex;
  hex.reserve(z.size() * 2);
  for (unsigned char c : z) {
    hex += kHex[c >> 4];
    hex += kHex[c & 0xF];
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < hex.size(); i += 255) out.push_back(hex.substr(i, 255));
  return out;
}

Result<registry::MdnsTxt> DecodeTxt(const std::vector<std::string>& strings) {
  std::string hex;
  for (const std::string& s : strings) hex += s;
  if (hex.size() % 2) return BadTxt("odd hex length");
  std::string bytes(hex.size() / 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return BadTxt("not hex");
    bytes[i] = static_cast<char>(hi << 4 | lo);
  }
  auto json = plugin::Inflate(bytes, kMaxInflated);
  if (!json) return BadTxt("not a complete zlib stream");
  return registry::MdnsTxtFromJson(*json);
}

std::string ServiceName(std::string_view service, std::string_view domain) {
  return fmt::format("{}.{}.", service, domain);
}

Result<NodeZone> MakeNodeZone(const registry::Service& service, const registry::Node& node,
                              std::string_view domain, std::string_view hostname) {
  const auto colon = node.address.rfind(':');
  if (colon == std::string::npos) {
    return errors::BadRequest(error_ids::kMdns, "node address \"{}\" is not host:port",
                              node.address);
  }
  std::string host = node.address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = std::string_view(node.address).substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return errors::BadRequest(error_ids::kMdns, "node address \"{}\" has no valid port",
                              node.address);
  }
  std::error_code aec;
  const auto ip = asio::ip::make_address(host, aec);
  if (aec) {
    return errors::BadRequest(error_ids::kMdns, "node address \"{}\" is not an IP address",
                              node.address);
  }
  NodeZone z;
  z.service = service.name;
  z.instance = fmt::format("{}.{}", node.id, ServiceName(service.name, domain));
  // Dots are fine (go-micro's "go.micro.srv.x-<uuid>" ids span labels, as in go-micro); empty
  // or over-long labels are not.
  if (node.id.empty() || !dns::ValidName(z.instance)) {
    return errors::BadRequest(error_ids::kMdns,
                              "node id \"{}\" of \"{}\" does not make a valid DNS name", node.id,
                              service.name);
  }
  z.host = fmt::format("{}.", hostname);
  z.port = static_cast<uint16_t>(port);
  if (ip.is_v4())
    z.ipv4 = ip.to_v4().to_bytes();
  else
    z.ipv6 = ip.to_v6().to_bytes();
  z.txt = EncodeTxt({.service = service.name,
                     .version = service.version,
                     .endpoints = service.endpoints,
                     .metadata = node.metadata});
  return z;
}

NodeZone MakeWildcardZone(std::string_view service, std::string_view domain,
                          std::string_view hostname) {
  NodeZone z;
  z.service = "_services";
  z.instance = fmt::format("{}.{}", service, ServiceName("_services", domain));
  z.host = fmt::format("{}.", hostname);
  z.port = kWildcardPort;
  z.ipv4 = std::array<uint8_t, 4>{0, 0, 0, 0};
  return z;
}

std::vector<dns::Record> ZoneRecords(const NodeZone& zone, std::string_view domain, uint32_t ttl) {
  std::vector<dns::Record> out;
  auto ptr = Base(ServiceName(zone.service, domain), dns::kTypePtr, ttl);
  ptr.target = zone.instance;
  out.push_back(std::move(ptr));
  auto srv = Base(zone.instance, dns::kTypeSrv, ttl);
  srv.priority = 10;  // as go-micro's zone (see the captured announcement: SRV 10 1)
  srv.weight = 1;
  srv.port = zone.port;
  srv.target = zone.host;
  out.push_back(std::move(srv));
  auto txt = Base(zone.instance, dns::kTypeTxt, ttl);
  txt.txt = zone.txt;
  out.push_back(std::move(txt));
  if (zone.ipv4) {
    auto a = Base(zone.host, dns::kTypeA, ttl);
    std::copy(zone.ipv4->begin(), zone.ipv4->end(), a.address.begin());
    out.push_back(std::move(a));
  }
  if (zone.ipv6) {
    auto a = Base(zone.host, dns::kTypeAaaa, ttl);
    a.address = *zone.ipv6;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<dns::Record> Answer(const NodeZone& zone, std::string_view domain,
                                const dns::Question& q) {
  const bool any = q.type == dns::kTypeAny;
  if (dns::NameEquals(q.name, ServiceName(zone.service, domain)) &&
      (any || q.type == dns::kTypePtr)) {
    return ZoneRecords(zone, domain, kRecordTtl);
  }
  if (dns::NameEquals(q.name, zone.instance) &&
      (any || q.type == dns::kTypeSrv || q.type == dns::kTypeTxt)) {
    auto recs = ZoneRecords(zone, domain, kRecordTtl);
    recs.erase(recs.begin());  // no PTR
    return recs;
  }
  if (dns::NameEquals(q.name, fmt::format("_services._dns-sd._udp.{}.", domain)) &&
      (any || q.type == dns::kTypePtr)) {
    auto ptr = Base(q.name, dns::kTypePtr, kRecordTtl);
    ptr.target = ServiceName(zone.service, domain);
    return {std::move(ptr)};
  }
  return {};
}

std::vector<Entry> Entries(const dns::Message& message) {
  std::map<std::string, Entry> entries;  // by lower-cased instance name
  std::map<std::string, std::array<uint8_t, 4>> v4;
  std::map<std::string, std::array<uint8_t, 16>> v6;
  for (const auto* section : {&message.answers, &message.authorities, &message.additionals}) {
    for (const dns::Record& r : *section) {
      switch (r.type) {
        case dns::kTypeSrv: {
          Entry& e = entries[Lower(r.name)];
          e.name = r.name;
          e.host = r.target;
          e.port = r.port;
          e.ttl = r.ttl;
          break;
        }
        case dns::kTypeTxt: {
          Entry& e = entries[Lower(r.name)];
          e.name = r.name;
          e.txt = r.txt;
          e.has_txt = true;
          e.ttl = r.ttl;
          break;
        }
        case dns::kTypeA: {
          std::array<uint8_t, 4> a;
          std::copy_n(r.address.begin(), 4, a.begin());
          v4[Lower(r.name)] = a;
          break;
        }
        case dns::kTypeAaaa:
          v6[Lower(r.name)] = r.address;
          break;
        default:
          break;
      }
    }
  }
  std::vector<Entry> out;
  for (auto& [key, e] : entries) {
    const std::string host = Lower(e.host);
    if (auto it = v4.find(host); it != v4.end()) e.ipv4 = it->second;
    if (auto it = v6.find(host); it != v6.end()) e.ipv6 = it->second;
    out.push_back(std::move(e));
  }
  return out;
}

std::string FormatAddress(const Entry& e) {
  if (e.ipv4) return fmt::format("{}:{}", asio::ip::address_v4(*e.ipv4).to_string(), e.port);
  if (e.ipv6) return fmt::format("[{}]:{}", asio::ip::address_v6(*e.ipv6).to_string(), e.port);
  return {};
}

std::optional<registry::Service> ToService(const Entry& entry, std::string_view service,
                                           std::string_view domain) {
  if (!entry.Complete()) return std::nullopt;
  auto txt = DecodeTxt(entry.txt);
  if (!txt || txt->service.empty()) return std::nullopt;
  if (!service.empty() && txt->service != service) return std::nullopt;
  const std::string suffix = "." + ServiceName(txt->service, domain);
  if (!EndsWithIgnoreCase(entry.name, suffix) || entry.name.size() <= suffix.size()) {
    return std::nullopt;
  }
  registry::Service s;
  s.name = txt->service;
  s.version = txt->version;
  s.endpoints = std::move(txt->endpoints);
  registry::Node node;
  node.id = entry.name.substr(0, entry.name.size() - suffix.size());
  node.address = FormatAddress(entry);
  node.metadata = std::move(txt->metadata);
  s.nodes.push_back(std::move(node));
  return s;
}

}  // namespace micro::mdns
