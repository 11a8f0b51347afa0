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
    if (a[i] == b[i]) continue;  // the common case: same spelling
    const char ca = Lower(a[i]);
    const char cb = Lower(b[i]);
    if (ca != cb) return static_cast<unsigned char>(ca) < static_cast<unsigned char>(cb);
  }
  return a.size() < b.size();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string CanonicalHeaderKey(std::string_view key) {
  std::string out(key);
  if (util::IsToken(key)) util::CanonicaliseInPlace(out.data(), out.size());
  return out;
}

Metadata::Metadata(std::initializer_list<std::pair<const std::string, std::string>> init) {
  map_.reserve(init.size());
  for (const auto& [k, v] : init) SetIfAbsent(k, v);
}

std::vector<Metadata::value_type>::iterator Metadata::LowerBound(std::string_view key) {
  // Headers usually come in order (ours are written sorted, so a peer's parse sees them so):
  // a key past the last one is appended with one comparison and no shifting.
  if (map_.empty() || CaseInsensitiveLess()(map_.back().first, key)) return map_.end();
  return std::lower_bound(
      map_.begin(), map_.end(), key,
      [](const value_type& e, std::string_view k) { return CaseInsensitiveLess()(e.first, k); });
}

const Metadata::value_type* Metadata::Find(std::string_view key) const {
  // A message's header has about a dozen fields: a scan that compares lengths first reads each
  // key's size once and compares characters only on a length match, which is cheaper than the
  // case-insensitive comparisons of a binary search.
  constexpr std::size_t kScanUpTo = 24;
  if (map_.size() <= kScanUpTo) {
    for (const value_type& e : map_) {
      if (e.first.size() == key.size() && EqualsIgnoreCase(e.first, key)) return &e;
    }
    return nullptr;
  }
  const auto it = const_cast<Metadata*>(this)->LowerBound(key);
  if (it == map_.end() || !EqualsIgnoreCase(it->first, key)) return nullptr;
  return &*it;
}

std::optional<std::string_view> Metadata::Get(std::string_view key) const {
  const value_type* e = Find(key);
  if (e == nullptr) return std::nullopt;
  return std::string_view(e->second);
}

std::string_view Metadata::GetOr(std::string_view key, std::string_view fallback) const {
  const value_type* e = Find(key);
  return e == nullptr ? fallback : std::string_view(e->second);
}

void Metadata::Set(std::string_view key, std::string value) {
  const auto it = LowerBound(key);
  if (it != map_.end() && EqualsIgnoreCase(it->first, key)) {
    it->second = std::move(value);
  } else {
    map_.emplace(it, std::string(key), std::move(value));
  }
}

void Metadata::Assign(std::string_view key, std::string_view value) {
  const auto it = LowerBound(key);
  if (it != map_.end() && EqualsIgnoreCase(it->first, key)) {
    it->second.assign(value);
  } else {
    map_.emplace(it, std::string(key), std::string(value));
  }
}

bool Metadata::SetIfAbsent(std::string_view key, std::string value) {
  const auto it = LowerBound(key);
  if (it != map_.end() && EqualsIgnoreCase(it->first, key)) return false;
  map_.emplace(it, std::string(key), std::move(value));
  return true;
}

bool Metadata::Delete(std::string_view key) {
  const auto it = LowerBound(key);
  if (it == map_.end() || !EqualsIgnoreCase(it->first, key)) return false;
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
