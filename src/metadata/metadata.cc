#include "micro/metadata.h"

#include <algorithm>

#include "util/ascii.h"

namespace micro {
namespace {

constexpr char Lower(char c) { return util::AsciiLower(c); }

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
  std::string out(key);
  if (util::IsToken(key)) util::CanonicaliseInPlace(out.data(), out.size());
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
