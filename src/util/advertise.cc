#include "util/advertise.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <optional>

namespace micro::util {
namespace {

bool IsPrivate(uint32_t host_order) {
  return (host_order >> 24) == 10 || (host_order >> 20) == 0xAC1 ||  // 10/8, 172.16/12
         (host_order >> 16) == 0xC0A8;                               // 192.168/16
}

std::string LocalIpv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::optional<std::string> priv, other;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    char buf[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) continue;
    auto& slot = IsPrivate(ntohl(sin->sin_addr.s_addr)) ? priv : other;
    if (!slot) slot = buf;
  }
  freeifaddrs(list);
  return priv.value_or(other.value_or("127.0.0.1"));
}

}  // namespace

std::string AdvertiseAddress(std::string_view listen_addr, std::string_view advertise) {
  if (!advertise.empty()) return std::string(advertise);
  const auto colon = listen_addr.rfind(':');
  if (colon == std::string_view::npos) return std::string(listen_addr);
  std::string_view host = listen_addr.substr(0, colon);
  const std::string_view port = listen_addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0" || host == "::")
    return LocalIpv4() + ":" + std::string(port);
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::string(port);
  }
  return std::string(host) + ":" + std::string(port);
}

}  // namespace micro::util
