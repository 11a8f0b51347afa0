#include "micro/metadata.h"

#include <gtest/gtest.h>

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

TEST(MetadataTest, IteratesInCaseInsensitiveOrder) {
  Metadata md{{"timeout", "1"}, {"Accept", "x"}, {"micro-id", "0"}, {"Content-Type", "y"}};
  std::vector<std::string> keys;
  for (const auto& [k, v] : md) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Accept", "Content-Type", "micro-id", "timeout"}));
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
