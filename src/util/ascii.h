// ASCII helpers for header names (HTTP tokens), shared by metadata and the HTTP transport.
#pragma once

#include <cstddef>
#include <string_view>

namespace micro::util {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// RFC 7230 token characters: the set Go accepts in a canonical header key.
constexpr bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kPunct = "!#$%&'*+-.^_`|~";
  return kPunct.find(c) != std::string_view::npos;
}

constexpr bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Go's CanonicalMIMEHeaderKey on a valid token, in place: "micro-id" -> "Micro-Id".
constexpr void CanonicaliseInPlace(char* p, std::size_t n) {
  bool upper = true;
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = upper ? AsciiUpper(p[i]) : AsciiLower(p[i]);
    upper = (p[i] == '-');
  }
}

}  // namespace micro::util
