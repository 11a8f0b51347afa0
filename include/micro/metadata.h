// micro::Metadata: the header map that travels with every call, as go-micro's metadata.
//
// Keys are compared case-insensitively ("micro-id" finds "Micro-Id"), as HTTP headers are;
// the spelling used when a key was first set is kept and is what goes on the wire.
// Iteration is in case-insensitive key order, so output is deterministic.
// Stored as one sorted vector (headers are few: lookups are a binary search, and building a
// header block costs one allocation instead of one tree node per entry).
//
// Threading: a plain value type; not synchronised.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace micro {

// Case-insensitive (ASCII) ordering for header names.
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

// Go's textproto.CanonicalMIMEHeaderKey: "micro-id" -> "Micro-Id", "content-type" ->
// "Content-Type". Keys with characters outside Go's token set are returned unchanged.
std::string CanonicalHeaderKey(std::string_view key);

class Metadata {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  Metadata() = default;
  // Duplicate keys: the first wins.
  Metadata(std::initializer_list<std::pair<const std::string, std::string>> init);

  // The value for key, if present.
  std::optional<std::string_view> Get(std::string_view key) const;
  // The value for key, or "" when absent.
  std::string_view GetOr(std::string_view key, std::string_view fallback = {}) const;
  bool Contains(std::string_view key) const { return Find(key) != nullptr; }

  // Sets key to value; an existing key keeps its first spelling.
  void Set(std::string_view key, std::string value);
  // As Set, copying value into the existing value's storage when key is present (no allocation
  // when it fits: for values rewritten on every call, such as trace headers).
  void Assign(std::string_view key, std::string_view value);
  // Sets only when absent. Returns true when it set.
  bool SetIfAbsent(std::string_view key, std::string value);
  // Removes key. Returns true when it was present.
  bool Delete(std::string_view key);
  // Copies every entry of other into this one; overwrite decides who wins on a clash.
  void Merge(const Metadata& other, bool overwrite = true);

  bool empty() const { return map_.empty(); }
  std::size_t size() const { return map_.size(); }
  void clear() { map_.clear(); }  // keeps the capacity
  void reserve(std::size_t n) { map_.reserve(n); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }

  friend bool operator==(const Metadata&, const Metadata&) = default;

 private:
  // The first entry whose key is not less than key.
  std::vector<value_type>::iterator LowerBound(std::string_view key);
  const value_type* Find(std::string_view key) const;

  std::vector<value_type> map_;  // sorted by CaseInsensitiveLess, keys unique
};

}  // namespace micro
