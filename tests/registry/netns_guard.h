// mDNS tests must never multicast on a real network: they run only inside a private network
// namespace (tests/registry/in_netns.sh), where loopback is the only interface.
#pragma once

#include <net/if.h>

#include <string>

namespace micro::testing {

// Empty when only loopback exists (a private namespace); otherwise why mDNS tests must not run.
inline std::string NotInPrivateNetns() {
  std::string others;
  if (struct if_nameindex* list = if_nameindex()) {
    for (auto* i = list; i->if_index != 0; ++i) {
      if (std::string(i->if_name) != "lo") others += std::string(" ") + i->if_name;
    }
    if_freenameindex(list);
  }
  if (others.empty()) return {};
  return "not in a private network namespace (interfaces:" + others +
         "); run through tests/registry/in_netns.sh";
}

}  // namespace micro::testing
