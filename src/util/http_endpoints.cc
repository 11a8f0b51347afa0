#include "util/http_endpoints.h"

#include <cstdlib>

namespace micro::util {

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

}  // namespace micro::util
