// go-micro's Consul tag encoding: round trips, the legacy plain forms, first-form-wins,
// malformed tags, Go durations.
#include <gtest/gtest.h>
#include <micro/plugin/compress.h>

#include "tags.h"

namespace micro::consul_detail {
namespace {

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(ConsulTagsTest, RoundTrip) {
  registry::Endpoint e{.name = "Greeter.Hello",
                       .request = registry::Value{"Request", "Request", {{"name", "string", {}}}},
                       .response = registry::Value{"Response", "Response", {}},
                       .metadata = {{"stream", "false"}}};
  auto tags = EncodeTags({{"protocol", "mucp"}, {"a", "<&>"}}, {e}, "1.2.3");
  ASSERT_EQ(tags.size(), 4u);  // two metadata pairs, one endpoint, one version
  EXPECT_EQ(tags[0].substr(0, 2), "t-");
  EXPECT_EQ(tags[2].substr(0, 2), "e-");
  EXPECT_EQ(tags[3].substr(0, 2), "v-");
  auto d = DecodeTags(tags);
  EXPECT_EQ(d.version, "1.2.3");
  EXPECT_EQ(d.metadata, (registry::StringMap{{"protocol", "mucp"}, {"a", "<&>"}}));
  ASSERT_EQ(d.endpoints.size(), 1u);
  EXPECT_EQ(d.endpoints[0], e);
}

TEST(ConsulTagsTest, CompressedPayloadIsZlibOfJson) {
  auto tags = EncodeTags({{"k", "v"}}, {}, "v1");
  std::string raw;
  for (std::size_t i = 2; i < tags[0].size(); i += 2) {
    raw += static_cast<char>(std::stoi(tags[0].substr(i, 2), nullptr, 16));
  }
  auto json = plugin::Inflate(raw, 1 << 20);
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(*json, "{\"k\":\"v\"}");
  EXPECT_EQ(tags[1], "v-" + HexOf(plugin::Deflate("v1")));
}

TEST(ConsulTagsTest, LegacyPlainForms) {
  auto d = DecodeTags({"t={\"protocol\":\"mucp\"}", "v=2.0",
                       "e={\"name\":\"Say.Hello\",\"request\":null,\"response\":null,"
                       "\"metadata\":null}",
                       "unrelated", "x-y"});
  EXPECT_EQ(d.version, "2.0");
  EXPECT_EQ(d.metadata, (registry::StringMap{{"protocol", "mucp"}}));
  ASSERT_EQ(d.endpoints.size(), 1u);
  EXPECT_EQ(d.endpoints[0].name, "Say.Hello");
}

TEST(ConsulTagsTest, FirstFormSeenWinsPerKind) {
  auto compressed = EncodeTags({{"new", "1"}}, {}, "compressed");
  std::vector<std::string> tags = {"v=plain", compressed[1], "t={\"old\":\"1\"}", compressed[0]};
  auto d = DecodeTags(tags);
  EXPECT_EQ(d.version, "plain");
  EXPECT_EQ(d.metadata, (registry::StringMap{{"old", "1"}}));
  // And the other way round.
  d = DecodeTags({compressed[1], "v=plain", compressed[0], "t={\"old\":\"1\"}"});
  EXPECT_EQ(d.version, "compressed");
  EXPECT_EQ(d.metadata, (registry::StringMap{{"new", "1"}}));
}

TEST(ConsulTagsTest, MalformedTagsAreSkipped) {
  auto d = DecodeTags({"t-zz", "t-", "e-00", "v-0", "t=not json", "e=[1]", "", "v", "t=[]"});
  EXPECT_TRUE(d.metadata.empty());
  EXPECT_TRUE(d.endpoints.empty());
  EXPECT_EQ(d.version, "");
}

TEST(ConsulTagsTest, GoDurations) {
  using namespace std::chrono_literals;
  EXPECT_EQ(GoDuration(300ms), "300ms");
  EXPECT_EQ(GoDuration(5s), "5s");
  EXPECT_EQ(GoDuration(1500ms), "1.5s");
  EXPECT_EQ(GoDuration(65s), "1m5s");
  EXPECT_EQ(GoDuration(60s), "1m0s");
  EXPECT_EQ(GoDuration(3600s), "1h0m0s");
  EXPECT_EQ(GoDuration(0s), "0s");
}

}  // namespace
}  // namespace micro::consul_detail
