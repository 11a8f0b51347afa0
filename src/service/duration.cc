#include <cctype>
#include <charconv>
#include <cmath>

#include "micro/service.h"

namespace micro {

Result<Duration> ParseGoDuration(std::string_view text) {
  auto bad = [&] {
    return errors::BadRequest(error_ids::kService, "invalid duration \"{}\"", text);
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration::zero();
  if (s.empty()) return bad();
  double total_ns = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return bad();
    double value = 0;
    const std::string number(s.substr(0, i));
    char* end = nullptr;
    value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return bad();
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
    const std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    double scale;
    if (unit == "ns") {
      scale = 1;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      scale = 1e3;
    } else if (unit == "ms") {
      scale = 1e6;
    } else if (unit == "s") {
      scale = 1e9;
    } else if (unit == "m") {
      scale = 60e9;
    } else if (unit == "h") {
      scale = 3600e9;
    } else {
      return bad();
    }
    total_ns += value * scale;
  }
  if (total_ns > 9.2e18) return bad();
  const auto ns = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total_ns)));
  return std::chrono::duration_cast<Duration>(negative ? -ns : ns);
}

}  // namespace micro
