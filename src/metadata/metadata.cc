#include "micro/metadata.h"

#include <algorithm>

namespace micro {
namespace {

constexpr char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// RFC 7230 token characters, the set Go accepts in a canonical header key.
constexpr bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const noexcept {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char ca = Lower(a[i]);
    const char cb = Lower(b[i]);
    if (ca != cb) return static_cast<unsigned char>(ca) < static_cast<unsigned char>(cb);
  }
  return a.size() < b.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string CanonicalHeaderKey(std::string_view key) {
  if (!std::all_of(key.begin(), key.end(), IsTokenChar)) return std::string(key);
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    c = upper ? Upper(c) : Lower(c);
    upper = (c == '-');
  }
  return out;
}

std::optional<std::string_view> Metadata::Get(std::string_view key) const {
  const auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string_view Metadata::GetOr(std::string_view key, std::string_view fallback) const {
  const auto it = map_.find(key);
  return it == map_.end() ? fallback : std::string_view(it->second);
}

void Metadata::Set(std::string_view key, std::string value) {
  const auto it = map_.find(key);
  if (it != map_.end()) {
    it->second = std::move(value);
  } else {
    map_.emplace(std::string(key), std::move(value));
  }
}

bool Metadata::SetIfAbsent(std::string_view key, std::string value) {
  if (map_.find(key) != map_.end()) return false;
  map_.emplace(std::string(key), std::move(value));
  return true;
}

bool Metadata::Delete(std::string_view key) {
  const auto it = map_.find(key);
  if (it == map_.end()) return false;
  map_.erase(it);
  return true;
}

void Metadata::Merge(const Metadata& other, bool overwrite) {
  for (const auto& [k, v] : other) {
    if (overwrite) {
      Set(k, v);
    } else {
      SetIfAbsent(k, v);
    }
  }
}

}  // namespace micro
