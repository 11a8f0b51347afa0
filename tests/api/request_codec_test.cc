// The gateway's HTTP <-> RPC translations, without sockets.
#include "api/request_codec.h"

#include <gtest/gtest.h>

#include "api/gateway_detail.h"
#include "micro/api.h"

namespace micro::api_detail {
namespace {

using nlohmann::json;

http::ServerRequest Req(std::string method, std::string target, std::string content_type = "",
                        std::string body = "") {
  http::ServerRequest r;
  static const std::string kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  for (const auto& m : kMethods) {
    if (m == method) r.method = m;
  }
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.raw_query = target.substr(q + 1);
  if (!content_type.empty()) r.header.Set("Content-Type", content_type);
  r.header.Set("Host", "localhost:8080");
  r.body = std::move(body);
  r.remote = "127.0.0.1:5555";
  return r;
}

TEST(QsonTest, GoMicroShapes) {
  EXPECT_EQ(QueryToJson("a=1"), json::parse(R"({"a":1})"));
  EXPECT_EQ(QueryToJson("name=John"), json::parse(R"({"name":"John"})"));
  EXPECT_EQ(QueryToJson("a[b]=x"), json::parse(R"({"a":{"b":"x"}})"));
  EXPECT_EQ(QueryToJson("a[]=1&a[]=2"), json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(QueryToJson("a=1&a=2"), json::parse(R"({"a":2})"));
  EXPECT_EQ(QueryToJson("a.b=1&a.c=true"), json::parse(R"({"a":{"b":1,"c":true}})"));
  EXPECT_EQ(QueryToJson("n=null&s=%22q%22&sp=a+b"),
            json::parse(R"({"n":null,"s":"q","sp":"a b"})"));
  EXPECT_EQ(QueryToJson(""), json::object());
  // Clashes never throw: the last wins.
  EXPECT_NO_THROW(QueryToJson("a=1&a[b]=2&a[]=3&a.c.d=4"));
}

// Found by fuzz_api_request: a form key of thousands of dots nested JSON thousands deep, and
// merging it overflowed the stack. A key deeper than 64 levels is kept whole as one name.
TEST(QsonTest, KeyDeeperThan64LevelsStaysFlat) {
  std::string at_limit = "a";  // 64 levels: still nested
  for (int i = 1; i < 64; ++i) at_limit += ".a";
  json nested = QueryToJson(at_limit + "=1");
  ASSERT_TRUE(nested.contains("a"));
  EXPECT_TRUE(nested["a"].is_object());
  EXPECT_TRUE(QueryToJson(at_limit + ".a=1").contains(at_limit + ".a"));  // 65: one flat name
  std::string deep = "a" + std::string(20000, '.') + "=1";
  json fields = QueryToJson(deep);
  ASSERT_TRUE(fields.contains("a" + std::string(20000, '.')));
  EXPECT_EQ(fields["a" + std::string(20000, '.')], 1);
  std::string brackets = "b";
  for (int i = 0; i < 5000; ++i) brackets += "[]";
  EXPECT_TRUE(QueryToJson(brackets + "=2").contains(brackets));
  // The path the fuzzer took: a form body merged over the query.
  auto form = Req("POST", "/x?q=1", "application/x-www-form-urlencoded", deep);
  EXPECT_NE(RpcHandlerJson(form).find("\"q\":1"), std::string::npos);
}

// Found by fuzz_api_request: bytes that are not UTF-8 in a query made nlohmann's dump throw
// (std::terminate in the gateway). They become U+FFFD.
TEST(QsonTest, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_EQ(RpcHandlerJson(Req("GET", "/x?a=%FF")), "{\"a\":\"\xEF\xBF\xBD\"}");
  EXPECT_NO_THROW(ApiRequestJson(Req("GET", "/x?%FF=%FE")));
  EXPECT_NO_THROW(EventJson({"t", "n"}, Req("GET", "/x?a=%C3")));
  auto call = DecodeRpcCall(Req("POST", "/rpc?service=s&method=A.B&request=%22%FF%22", ""));
  ASSERT_FALSE(call.ok());  // JSON text must be UTF-8: a 400, not a crash
  EXPECT_EQ(call.error().code, 400);
}

TEST(DecodeRpcCallTest, JsonBody) {
  auto call = DecodeRpcCall(
      Req("POST", "/rpc", "application/json; charset=utf-8",
          R"({"service":"go.micro.srv.greeter","Method":"Say.Hello",)"
          R"("address":"127.0.0.1:1","request":{"name":"John","n":12345678901234}})"));
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call->service, "go.micro.srv.greeter");
  EXPECT_EQ(call->endpoint, "Say.Hello");
  EXPECT_EQ(call->address, "127.0.0.1:1");
  EXPECT_EQ(json::parse(call->request), json::parse(R"({"name":"John","n":12345678901234})"));
}

TEST(DecodeRpcCallTest, EndpointWinsAndRequestMayBeAString) {
  auto call = DecodeRpcCall(Req("POST", "/rpc", "application/json",
                                R"({"service":"s","endpoint":"A.B","method":"C.D",)"
                                R"("request":"{\"name\":\"x\"}"})"));
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call->endpoint, "A.B");
  EXPECT_EQ(call->request, R"({"name":"x"})");
}

TEST(DecodeRpcCallTest, FormFieldsAsTheSeedsCurl) {
  auto call = DecodeRpcCall(
      Req("POST", "/rpc", "application/x-www-form-urlencoded",
          "service=go.micro.srv.greeter&method=Say.Hello&request=%7B%22name%22%3A+%22John%22%7D"));
  ASSERT_TRUE(call.ok()) << call.error();
  EXPECT_EQ(call->service, "go.micro.srv.greeter");
  EXPECT_EQ(call->endpoint, "Say.Hello");
  EXPECT_EQ(call->request, R"({"name":"John"})");
}

TEST(DecodeRpcCallTest, BadInputIs400) {
  const std::pair<http::ServerRequest, const char*> cases[] = {
      {Req("POST", "/rpc", "application/json", "{"), ""},
      {Req("POST", "/rpc", "application/json", "[1]"), "request body is not a JSON object"},
      {Req("POST", "/rpc", "application/json", R"({"endpoint":"A.B"})"), "invalid service"},
      {Req("POST", "/rpc", "application/json", R"({"service":"s"})"), "invalid endpoint"},
      {Req("POST", "/rpc", "application/json", R"({"service":"s","method":"A.B","request":"{x"})"),
       "error decoding request string: "},
      {Req("POST", "/rpc", "application/json", std::string(1000, '[')), "JSON nested deeper"},
      {Req("POST", "/rpc?service=s&method=A.B&request=nope", ""),
       "error decoding request string: "},
  };
  for (const auto& [req, detail] : cases) {
    auto call = DecodeRpcCall(req);
    ASSERT_FALSE(call.ok()) << req.body;
    EXPECT_EQ(call.error().code, 400);
    EXPECT_EQ(call.error().id, "go.micro.rpc");
    EXPECT_EQ(call.error().detail.rfind(detail, 0), 0u) << call.error().detail;
  }
}

TEST(RpcHandlerJsonTest, QueryAndBodyMerge) {
  EXPECT_EQ(json::parse(RpcHandlerJson(Req("GET", "/greeter/say/hello?name=John"))),
            json::parse(R"({"name":"John"})"));
  EXPECT_EQ(RpcHandlerJson(Req("GET", "/x")), "{}");
  EXPECT_EQ(json::parse(RpcHandlerJson(
                Req("POST", "/x?a=1&b=2", "application/json", R"({"b":3,"c":{"d":4}})"))),
            json::parse(R"({"a":1,"b":3,"c":{"d":4}})"));
  EXPECT_EQ(RpcHandlerJson(Req("POST", "/x", "application/json", R"({"big":1.50})")),
            R"({"big":1.50})");  // no query: the body as sent
  EXPECT_EQ(RpcHandlerJson(Req("POST", "/x", "text/plain", "not json")), "not json");
  EXPECT_EQ(json::parse(RpcHandlerJson(
                Req("POST", "/x", "application/x-www-form-urlencoded", "name=John&age=3"))),
            json::parse(R"({"name":"John","age":3})"));
}

// HTTP headers become call metadata, less the hop-by-hop and framing ones, plus Method.
TEST(MetadataFromTest, PassesEndToEndHeadersAndMethod) {
  auto r = Req("POST", "/greeter/say/hello", "application/json", "{}");
  for (const char* k : {"Connection", "Content-Length", "Keep-Alive", "Te", "Timeout",
                        "Sec-Websocket-Key", "Sec-Websocket-Version", "Upgrade", "Trailer"}) {
    r.header.Set(k, "x");
  }
  r.header.Set("X-Trace", "abc");
  r.header.Set("Authorization", "Bearer t");
  Metadata md = MetadataFrom(r);
  std::vector<std::string> keys;
  for (const auto& [k, v] : md) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Authorization", "Content-Type", "Host", "Method",
                                            "X-Trace"}));
  EXPECT_EQ(md.GetOr("Method"), "POST");
  EXPECT_EQ(md.GetOr("Authorization"), "Bearer t");
}

TEST(ApiRequestJsonTest, FieldsAsGoMicro) {
  auto r = Req("GET", "/greeter/say/hello?name=John&name=Jo");
  r.header.Set("x-foo-bar", "baz");
  json j = json::parse(ApiRequestJson(r));
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/greeter/say/hello");
  EXPECT_EQ(j["url"], "/greeter/say/hello?name=John&name=Jo");
  EXPECT_EQ(j["get"]["name"], json::parse(R"({"key":"name","values":["John","Jo"]})"));
  EXPECT_EQ(j["header"]["X-Foo-Bar"]["values"][0], "baz");
  EXPECT_EQ(j["header"]["Host"]["values"][0], "localhost:8080");
  EXPECT_EQ(j["header"]["Content-Type"]["values"][0], "text/plain; charset=UTF-8");
  EXPECT_EQ(j["header"]["X-Forwarded-For"]["values"][0], "127.0.0.1");
  EXPECT_EQ(j["body"], "");

  json form = json::parse(ApiRequestJson(
      Req("POST", "/shop/order", "application/x-www-form-urlencoded", "item=a&item=b")));
  EXPECT_EQ(form["post"]["item"]["values"], json::parse(R"(["a","b"])"));
  EXPECT_EQ(form["body"], "");
  json raw = json::parse(ApiRequestJson(Req("POST", "/x", "application/json", R"({"a":1})")));
  EXPECT_EQ(raw["body"], R"({"a":1})");
  EXPECT_TRUE(raw["post"].empty());
}

TEST(ApiResponseReplyTest, StatusHeadersBody) {
  auto reply = ApiResponseReply(
      R"({"statusCode":201,"header":{"x":{"key":"X-Id","values":["1","2"]}},"body":"made"})");
  ASSERT_TRUE(reply.ok()) << reply.error();
  EXPECT_EQ(reply->status, 201);
  EXPECT_EQ(reply->body, "made");
  EXPECT_EQ(reply->header,
            (std::vector<std::pair<std::string, std::string>>{
                {"X-Id", "1"}, {"X-Id", "2"}, {"Content-Type", "application/json"}}));
  auto zero = ApiResponseReply(R"({"body":"{}"})");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->status, 200);
  EXPECT_EQ(ApiResponseReply(R"({"statusCode":"404"})")->status, 404);
  for (const char* bad : {"", "[]", R"({"statusCode":100000})", "{"}) {
    auto r = ApiResponseReply(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, 500);
    EXPECT_EQ(r.error().id, "go.micro.api");
  }
}

TEST(EventJsonTest, IdTimestampAndData) {
  auto r = Req("GET", "/user/login?who=ann");
  EventRoute route = ResolveEvent(r.path, "go.micro.api");
  json j = json::parse(EventJson(route, r));
  EXPECT_EQ(j["name"], "login");
  EXPECT_EQ(j["id"].get<std::string>().rfind("go.micro.api.user-login-", 0), 0u);
  EXPECT_GT(std::stoll(j["timestamp"].get<std::string>()), 1700000000);
  EXPECT_EQ(json::parse(j["data"].get<std::string>()), json::parse(R"({"who":["ann"]})"));
  json post = json::parse(EventJson(route, Req("POST", "/user/login", "text/plain", "raw")));
  EXPECT_EQ(post["data"], "raw");
}

}  // namespace
}  // namespace micro::api_detail
