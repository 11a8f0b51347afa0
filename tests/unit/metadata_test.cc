#include "micro/metadata.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "util/ascii.h"

namespace micro {
namespace {

TEST(MetadataTest, KeysAreCaseInsensitive) {
  Metadata md;
  md.Set("Micro-Id", "1");
  EXPECT_EQ(md.GetOr("micro-id"), "1");
  EXPECT_EQ(md.GetOr("MICRO-ID"), "1");
  EXPECT_TRUE(md.Contains("mIcRo-Id"));
  md.Set("micro-id", "2");  // same key: keeps the first spelling
  EXPECT_EQ(md.size(), 1u);
  EXPECT_EQ(md.begin()->first, "Micro-Id");
  EXPECT_EQ(md.begin()->second, "2");
  EXPECT_FALSE(md.Get("Micro-Service").has_value());
  EXPECT_EQ(md.GetOr("Micro-Service", "none"), "none");
}

TEST(MetadataTest, SetIfAbsentDeleteMerge) {
  Metadata md{{"A", "1"}};
  EXPECT_FALSE(md.SetIfAbsent("a", "2"));
  EXPECT_TRUE(md.SetIfAbsent("B", "2"));
  EXPECT_TRUE(md.Delete("b"));
  EXPECT_FALSE(md.Delete("b"));
  Metadata other{{"a", "9"}, {"C", "3"}};
  Metadata keep = md;
  keep.Merge(other, /*overwrite=*/false);
  EXPECT_EQ(keep.GetOr("A"), "1");
  EXPECT_EQ(keep.GetOr("c"), "3");
  md.Merge(other);
  EXPECT_EQ(md.GetOr("A"), "9");
}

TEST(MetadataTest, AssignCopiesIntoTheExistingValue) {
  Metadata md{{"Traceparent", std::string(55, 'x')}};
  const char* storage = md.begin()->second.data();
  md.Assign("traceparent", std::string(55, 'y'));  // same key, same length: same storage
  EXPECT_EQ(md.size(), 1u);
  EXPECT_EQ(md.begin()->first, "Traceparent");
  EXPECT_EQ(md.GetOr("Traceparent"), std::string(55, 'y'));
  EXPECT_EQ(md.begin()->second.data(), storage);
  md.Assign("Micro-Span-Id", "00f067aa0ba902b7");  // absent: added in order
  EXPECT_EQ(md.size(), 2u);
  EXPECT_EQ(md.begin()->first, "Micro-Span-Id");
  EXPECT_EQ(md.GetOr("micro-span-id"), "00f067aa0ba902b7");
}

TEST(MetadataTest, IteratesInCaseInsensitiveOrder) {
  Metadata md{{"timeout", "1"}, {"Accept", "x"}, {"micro-id", "0"}, {"Content-Type", "y"}};
  std::vector<std::string> keys;
  for (const auto& [k, v] : md) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Accept", "Content-Type", "micro-id", "timeout"}));
}

// In order (the fast path: appended), in reverse and shuffled: the same sorted content.
TEST(MetadataTest, AnyInsertionOrderGivesTheSameSortedContent) {
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back((i % 2 ? "micro-" : "X-") + std::to_string(i * 7));
  auto build = [](const std::vector<std::string>& order) {
    Metadata md;
    for (const auto& k : order) md.Set(k, k);
    return md;
  };
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end(), CaseInsensitiveLess());
  std::vector<std::string> reversed(sorted.rbegin(), sorted.rend());
  const Metadata a = build(sorted), b = build(reversed), c = build(keys);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end(), [](const auto& x, const auto& y) {
    return CaseInsensitiveLess()(x.first, y.first);
  }));
  for (const auto& k : keys) EXPECT_EQ(c.GetOr(k), k);
  Metadata d = a;
  EXPECT_FALSE(d.SetIfAbsent("MICRO-7", "again"));  // present, other spelling: not appended
  EXPECT_EQ(d.size(), a.size());
}

// Lookups scan small maps and binary-search large ones: both find every key in any case and
// nothing else, at every size around the switch.
TEST(MetadataTest, LookupsAtEverySize) {
  for (int n = 0; n <= 40; ++n) {
    Metadata md;
    for (int i = 0; i < n; ++i) md.Set("X-Field-" + std::to_string(i * 7 % 41), std::to_string(i));
    ASSERT_EQ(md.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const std::string key = "x-FIELD-" + std::to_string(i * 7 % 41);
      ASSERT_EQ(md.GetOr(key, "absent"), std::to_string(i)) << key << " in " << n;
    }
    EXPECT_FALSE(md.Contains("X-Field-"));
    EXPECT_FALSE(md.Contains("X-Field-41"));
    EXPECT_FALSE(md.Contains("Y"));
  }
}

// The one-pass name check and casing used by the HTTP parser and writers agrees with the
// two-pass definition (IsToken, then CanonicaliseInPlace) on names made of any bytes.
TEST(MetadataTest, OnePassCanonicalNameAgreesWithTwoPasses) {
  std::mt19937 rng(11);
  const std::string common = "aZ-09_.!~^|`'*+#$%&x";
  for (int round = 0; round < 20000; ++round) {
    std::string name(rng() % 12, '\0');
    for (char& c : name) {
      c = rng() % 8 == 0 ? static_cast<char>(rng() % 256) : common[rng() % common.size()];
    }
    std::string two = name;
    const bool token = util::IsToken(name);
    if (token) util::CanonicaliseInPlace(two.data(), two.size());
    std::string one(name.size(), '\0');
    ASSERT_EQ(util::CopyCanonicalToken(name.data(), name.size(), one.data()), token) << name;
    if (token) {
      ASSERT_EQ(one, two);
    }
  }
}

TEST(MetadataTest, CanonicalHeaderKeyAsGo) {
  EXPECT_EQ(CanonicalHeaderKey("micro-id"), "Micro-Id");
  EXPECT_EQ(CanonicalHeaderKey("MICRO-ERROR"), "Micro-Error");
  EXPECT_EQ(CanonicalHeaderKey("content-type"), "Content-Type");
  EXPECT_EQ(CanonicalHeaderKey("x-micro-trace-id"), "X-Micro-Trace-Id");
  EXPECT_EQ(CanonicalHeaderKey("timeout"), "Timeout");
  EXPECT_EQ(CanonicalHeaderKey(":path"), ":path");  // not a token: unchanged
  EXPECT_EQ(CanonicalHeaderKey("has space"), "has space");
  EXPECT_EQ(CanonicalHeaderKey(""), "");
}

TEST(MetadataTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "content-typ"));
}

}  // namespace
}  // namespace micro
