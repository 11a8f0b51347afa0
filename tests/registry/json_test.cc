#include <gtest/gtest.h>
#include <micro/registry.h>

namespace micro::registry {
namespace {

Service Greeter() {
  Service s;
  s.name = "greeter";
  s.version = "latest";
  Endpoint e;
  e.name = "Greeter.Hello";
  e.request = Value{"Request", "Request", {{"name", "string", {}}}};
  e.response = Value{"Response", "Response", {{"msg", "string", {}}}};
  s.endpoints.push_back(e);
  Node n;
  n.id = "greeter-1";
  n.address = "127.0.0.1:18080";
  n.metadata = {{"transport", "http"}, {"protocol", "mucp"}};
  s.nodes.push_back(n);
  return s;
}

TEST(RegistryJsonTest, WritesGoFieldOrderSortedKeysAndNulls) {
  EXPECT_EQ(ToJson(Greeter()),
            R"({"name":"greeter","version":"latest","metadata":{},"endpoints":[{"request":)"
            R"({"name":"Request","type":"Request","values":[{"name":"name","type":"string",)"
            R"("values":null}]},"response":{"name":"Response","type":"Response","values":[{)"
            R"("name":"msg","type":"string","values":null}]},"metadata":{},"name":)"
            R"("Greeter.Hello"}],"nodes":[{"metadata":{"protocol":"mucp","transport":"http"},)"
            R"("id":"greeter-1","address":"127.0.0.1:18080"}]})");
  Service empty;
  EXPECT_EQ(ToJson(empty),
            R"({"name":"","version":"","metadata":{},"endpoints":null,"nodes":null})");
  Endpoint e;
  e.name = "X.Y";
  EXPECT_EQ(ToJson(e), R"({"request":null,"response":null,"metadata":{},"name":"X.Y"})");
}

TEST(RegistryJsonTest, EscapesLikeGo) {
  Node n;
  n.id = "a<b>&\"\n";
  EXPECT_EQ(ToJson(n), R"({"metadata":{},"id":"a\u003cb\u003e\u0026\"\n","address":""})");
}

TEST(RegistryJsonTest, RoundTrips) {
  auto parsed = ServiceFromJson(ToJson(Greeter()));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(*parsed, Greeter());
}

TEST(RegistryJsonTest, AcceptsNullsMissingFieldsAndAnyKeyCase) {
  auto s = ServiceFromJson(
      R"({"Name":"x","VERSION":"1","metadata":null,"endpoints":[{"name":"E","request":null,)"
      R"("metadata":null}],"nodes":[{"id":"n","address":"1.2.3.4:5","metadata":{"k":null}},null]})");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->name, "x");
  EXPECT_EQ(s->version, "1");
  ASSERT_EQ(s->endpoints.size(), 1u);
  EXPECT_FALSE(s->endpoints[0].request.has_value());
  ASSERT_EQ(s->nodes.size(), 2u);
  EXPECT_EQ(s->nodes[0].metadata.at("k"), "");
  EXPECT_TRUE(ServiceFromJson("{}").ok());
  EXPECT_TRUE(NodeFromJson(R"({"id":"a","address":"b","metadata":null})").ok());
}

TEST(RegistryJsonTest, RejectsMalformedInputWith400) {
  for (std::string_view bad : {"", "{", "[]", R"({"name":1})", R"({"nodes":{}})",
                               R"({"metadata":{"a":1}})", R"({"endpoints":[1]})"}) {
    auto s = ServiceFromJson(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, 400) << bad;
  }
  std::string deep(10000, '[');
  EXPECT_FALSE(ServiceFromJson(deep).ok());
}

TEST(RegistryJsonTest, EventTypeNames) {
  for (EventType t :
       {EventType::kCreate, EventType::kUpdate, EventType::kDelete, EventType::kOverride}) {
    EXPECT_EQ(ParseEventType(ToString(t)), t);
  }
  EXPECT_EQ(ToString(EventType::kCreate), "create");
  EXPECT_FALSE(ParseEventType("nope").has_value());
}

}  // namespace
}  // namespace micro::registry
