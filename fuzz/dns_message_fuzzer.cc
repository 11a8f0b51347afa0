// The mDNS receive path on untrusted packets: DNS decoding, entry assembly, TXT decoding
// (hex, zlib, JSON) and the responder's question matching must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "registry/dns_message.h"
#include "registry/mdns_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro;
  auto msg = dns::Decode(std::span<const uint8_t>(data, size));
  if (!msg) return 0;
  for (const mdns::Entry& e : mdns::Entries(*msg)) {
    (void)mdns::ToService(e, "", "micro");
    (void)mdns::FormatAddress(e);
  }
  static const mdns::NodeZone zone = [] {
    registry::Service s;
    s.name = "greeter";
    s.version = "latest";
    registry::Node n;
    n.id = "greeter-1";
    n.address = "127.0.0.1:8080";
    return *mdns::MakeNodeZone(s, n, "micro", "vm");
  }();
  for (const dns::Question& q : msg->questions) (void)mdns::Answer(zone, "micro", q);
  // What we can encode, we must decode again.
  if (auto bytes = dns::Encode(*msg); bytes.ok()) {
    if (!dns::Decode(*bytes).ok()) std::abort();
  }
  return 0;
}
