#include <micro/plugin/address.h>
#include <micro/transport.h>

#include <charconv>
#include <cstdlib>

namespace micro::plugin {
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
  return errors::BadRequest(std::string(kTransportErrorId), "invalid address \"{}\": {}", addr,
                            why);
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

std::vector<std::string> SplitHttpEndpoints(const std::vector<std::string>& addrs,
                                            std::string_view default_port, bool* secure) {
  std::vector<std::string> out;
  for (const auto& a : addrs) {
    std::size_t start = 0;
    while (start <= a.size()) {
      auto comma = a.find(',', start);
      std::string item = a.substr(start, comma == std::string::npos ? comma : comma - start);
      start = comma == std::string::npos ? a.size() + 1 : comma + 1;
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (item.rfind("https://", 0) == 0) {
        *secure = true;
        item.erase(0, 8);
      } else if (item.rfind("http://", 0) == 0) {
        item.erase(0, 7);
      }
      while (!item.empty() && item.back() == '/') item.pop_back();
      if (item.empty()) continue;
      // A port is present when the text after the last ':' is all digits (and, for IPv6, the
      // address is bracketed).
      const auto colon = item.rfind(':');
      const bool has_port = colon != std::string::npos && colon + 1 < item.size() &&
                            item.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
                            (item.find(':') == colon || item.front() == '[');
      if (!has_port) {
        item += ':';
        item += default_port;
      }
      out.push_back(std::move(item));
    }
  }
  return out;
}

std::string ParamOrEnv(const std::map<std::string, std::string>& params, const std::string& key,
                       const char* env) {
  if (auto it = params.find(key); it != params.end()) return it->second;
  if (env) {
    if (const char* v = std::getenv(env)) return v;
  }
  return {};
}

}  // namespace micro::plugin
