#include "transport/address.h"

#include <charconv>

#include "micro/transport.h"

namespace micro::transport_detail {
namespace {

bool ParsePort(std::string_view s, uint16_t* out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

Error BadAddress(std::string_view addr, std::string_view why) {
  return errors::BadRequest(std::string(kTransportErrorId), "invalid address \"{}\": {}", addr, why);
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view addr) {
  HostPort hp;
  std::string_view rest;
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string_view::npos) return BadAddress(addr, "missing ']'");
    hp.host = std::string(addr.substr(1, close - 1));
    rest = addr.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return BadAddress(addr, "missing port");
    rest.remove_prefix(1);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return BadAddress(addr, "missing port");
    hp.host = std::string(addr.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return BadAddress(addr, "too many colons");
    rest = addr.substr(colon + 1);
  }
  const auto dash = rest.find('-');
  if (dash == std::string_view::npos) {
    if (!ParsePort(rest, &hp.min_port)) return BadAddress(addr, "bad port");
    hp.max_port = hp.min_port;
  } else {
    if (!ParsePort(rest.substr(0, dash), &hp.min_port) ||
        !ParsePort(rest.substr(dash + 1), &hp.max_port) || hp.min_port > hp.max_port) {
      return BadAddress(addr, "bad port range");
    }
  }
  return hp;
}

std::string JoinHostPort(std::string_view host, uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

}  // namespace micro::transport_detail
