// Settings shared by the plugins that talk HTTP to a server (etcd's gateway, Consul's agent).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace micro::util {

// "host:port" endpoints from addresses such as {"http://a:2379,b", "https://[::1]"}: items are
// comma-separated, trimmed, an "http://" or "https://" scheme and trailing '/' are dropped
// (https sets *secure), and default_port is added where no port is given.
std::vector<std::string> SplitHttpEndpoints(const std::vector<std::string>& addrs,
                                            std::string_view default_port, bool* secure);

// params[key] if present, else the environment variable env (when given), else "".
std::string ParamOrEnv(const std::map<std::string, std::string>& params, const std::string& key,
                       const char* env = nullptr);

}  // namespace micro::util
