// The gateway's resolvers against go-micro's tables (reference go-micro-toolkit.md §3, §1.4).
#include <gtest/gtest.h>

#include "api/request_codec.h"
#include "micro/api.h"

namespace micro::api {
namespace {

struct MicroCase {
  const char* path;
  const char* service;
  const char* endpoint;
};

TEST(ResolveMicroTest, GoMicroTable) {
  const MicroCase cases[] = {
      {"/foo", "foo", "Foo.Call"},
      {"/foo/bar", "foo", "Foo.Bar"},
      {"/foo/foo/bar", "foo", "Foo.Bar"},
      {"/foo/bar/baz", "foo", "Bar.Baz"},
      {"/foo/bar/baz-xyz", "foo", "Bar.BazXyz"},
      {"/foo/bar/baz/cat", "foo.bar", "Baz.Cat"},
      {"/foo/bar/baz/cat/car", "foo.bar.baz", "Cat.Car"},
      {"/foo/fooBar/bazCat", "foo", "FooBar.BazCat"},
      {"/v1/foo/bar", "v1.foo", "Foo.Bar"},
      {"/v1/foo/bar/baz", "v1.foo", "Bar.Baz"},
      {"/v1/foo/bar/baz/cat", "v1.foo.bar", "Baz.Cat"},
      {"/foo-bar/get-user", "foo-bar", "FooBar.GetUser"},
      {"/greeter/say/hello", "greeter", "Say.Hello"},
      {"//foo/./bar/", "foo", "Foo.Bar"},
      {"/foo/x/../bar", "foo", "Foo.Bar"},
  };
  for (const auto& c : cases) {
    Route r = ResolveMicro(c.path, "");
    EXPECT_EQ(r.service, c.service) << c.path;
    EXPECT_EQ(r.endpoint, c.endpoint) << c.path;
  }
  EXPECT_EQ(ResolveMicro("/", "").service, "");
  EXPECT_EQ(ResolveMicro("/greeter/say/hello", "go.micro.api").service, "go.micro.api.greeter");
}

TEST(WithNamespaceTest, GoMicroRules) {
  EXPECT_EQ(WithNamespace("go.micro.api", "foo"), "go.micro.api.foo");
  EXPECT_EQ(WithNamespace("", "foo"), "foo");
  EXPECT_EQ(WithNamespace("go.micro.api.", "foo"), "go.micro.api.foo");
  EXPECT_EQ(WithNamespace("go-micro-", "v1.foo"), "go-micro-v1-foo");
}

TEST(ResolveProxyTest, GoMicroTable) {
  const std::pair<const char*, const char*> cases[] = {
      {"/f", "f"},
      {"/f-b", "f-b"},
      {"/foo/bar", "foo"},
      {"/foo-bar-baz", "foo-bar-baz"},
      {"/v1/foo/bar", "v1.foo"},
      {"/v1/foo/bar/baz/cat", "v1.foo"},
      {"/", ""},
      {"/-bad", ""},
      {"/a--b", ""},
      {"/bad_name/x", ""},
  };
  for (const auto& [path, service] : cases) {
    EXPECT_EQ(ResolveProxy(path, "GET", "").service, service) << path;
  }
  EXPECT_EQ(ResolveProxy("/shop/cart", "POST", "go.micro.api"),
            (Route{"go.micro.api.shop", "POST"}));
}

TEST(ResolveTest, OtherResolvers) {
  EXPECT_EQ(Resolve("host", "/x", "example.com:8080", "GET", "")->service, "example.com:8080");
  EXPECT_EQ(Resolve("path", "/foo/bar", "", "GET", "ns")->service, "ns.foo");
  EXPECT_EQ(Resolve("vpath", "/v1/foo/x", "", "GET", "")->service, "foo");
  EXPECT_EQ(Resolve("vpath", "/foo/x", "", "GET", "")->service, "foo");
  EXPECT_EQ(Resolve("grpc", "/foo.Bar/Method", "", "POST", "")->service, "foo");
  for (const char* r : {"path", "vpath", "grpc"}) {
    auto root = Resolve(r, "/", "", "GET", "");
    ASSERT_FALSE(root.ok()) << r;
    EXPECT_EQ(root.error().detail, "unknown name");
  }
  auto unknown = Resolve("nope", "/x", "", "GET", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, 400);
}

TEST(HandlerKindTest, Names) {
  for (const char* name : {"meta", "rpc", "api", "http", "event", "web"}) {
    auto kind = ParseHandlerKind(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(HandlerName(*kind), name);
  }
  EXPECT_EQ(ParseHandlerKind("proxy"), HandlerKind::kHttp);
  EXPECT_FALSE(ParseHandlerKind("grpc"));
}

TEST(ResolveEventTest, GoMicroTable) {
  using api_detail::ResolveEvent;
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"/", "go.micro.api", "event"},
      {"/foo", "go.micro.api.foo", ""},
      {"/foo/bar", "go.micro.api.foo", "bar"},
      {"/foo/bar/baz", "go.micro.api.foo", "bar.baz"},
      {"/v1/foo/bar", "go.micro.api.v1.foo", "foo.bar"},
  };
  for (const auto& [path, topic, name] : cases) {
    auto r = ResolveEvent(path, "go.micro.api");
    EXPECT_EQ(r.topic, topic) << path;
    EXPECT_EQ(r.name, name) << path;
  }
}

}  // namespace
}  // namespace micro::api
