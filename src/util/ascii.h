// ASCII helpers for header names (HTTP tokens), shared by metadata and the HTTP transport.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace micro::util {

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

namespace ascii_detail {
// RFC 7230 token characters: the set Go accepts in a canonical header key, as a table (every
// header name of every message is checked, character by character).
constexpr std::array<bool, 256> kTokenChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();
}  // namespace ascii_detail

constexpr bool IsTokenChar(char c) {
  return ascii_detail::kTokenChars[static_cast<unsigned char>(c)];
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

namespace ascii_detail {
// kCanonical[start][c]: token character c in Go's canonical case, upper when it starts a word
// (start = 1: first, or after '-') and lower otherwise; 0 when c is not a token character.
constexpr std::array<std::array<char, 256>, 2> kCanonical = [] {
  std::array<std::array<char, 256>, 2> table{};
  for (int c = 0; c < 256; ++c) {
    if (!kTokenChars[c]) continue;
    table[0][c] = AsciiLower(static_cast<char>(c));
    table[1][c] = AsciiUpper(static_cast<char>(c));
  }
  return table;
}();
}  // namespace ascii_detail

// IsToken and CanonicaliseInPlace in one pass, copying from `from` to `to` (which may be the
// same place): every header name of every message goes through this, so it is one table load
// a character. Returns false, with `to` partly written, when `from` is empty or not a token.
constexpr bool CopyCanonicalToken(const char* from, std::size_t n, char* to) {
  if (n == 0) return false;
  std::size_t start = 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(from[i]);
    const char out = ascii_detail::kCanonical[start][c];
    if (out == 0) return false;
    to[i] = out;
    start = c == '-';
  }
  return true;
}

}  // namespace micro::util
