// Addresses and settings as plugins receive them: "host:port" parsing, endpoint lists from
// `--registry_address`, and options that fall back to environment variables. Pure functions,
// safe from any thread.
#pragma once

#include <micro/status.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace micro::plugin {

struct HostPort {
  std::string host;  // without brackets; empty for "any"
  uint16_t min_port = 0;
  uint16_t max_port = 0;  // == min_port unless a range "host:min-max" was given
};

// Parses "host:port", ":port", "[v6]:port", "host:min-max". The port is required; anything
// else is a 400 Error (id "go.micro.transport") naming the address and what is wrong.
Result<HostPort> ParseHostPort(std::string_view addr);

// "ip:port", with brackets for IPv6, as Go's net.JoinHostPort.
std::string JoinHostPort(std::string_view host, uint16_t port);

// "host:port" endpoints from addresses such as {"http://a:2379,b", "https://[::1]"}: items are
// comma-separated, trimmed, an "http://" or "https://" scheme and trailing '/' are dropped
// (https sets *secure, which is otherwise left alone), and default_port is added where no port
// is given. Empty items are skipped.
std::vector<std::string> SplitHttpEndpoints(const std::vector<std::string>& addrs,
                                            std::string_view default_port, bool* secure);

// params[key] if present, else the environment variable env (when not null), else "".
std::string ParamOrEnv(const std::map<std::string, std::string>& params, const std::string& key,
                       const char* env);

}  // namespace micro::plugin
