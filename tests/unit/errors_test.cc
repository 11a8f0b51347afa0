#include "micro/errors.h"

#include <gtest/gtest.h>

#include "micro/status.h"

namespace micro {
namespace {

TEST(ErrorTest, JsonMatchesGoMicroByteForByte) {
  // From go-micro's README and reference/go-micro.md §4.2 / §10.
  EXPECT_EQ(
      errors::Timeout("go.micro.client", "call timeout: context deadline exceeded").ToJson(),
      R"({"id":"go.micro.client","code":408,"detail":"call timeout: context deadline exceeded","status":"Request Timeout"})");
  EXPECT_EQ(errors::NotFound("helloworld", "not found").ToJson(),
            R"({"id":"helloworld","code":404,"detail":"not found","status":"Not Found"})");
}

TEST(ErrorTest, EmptyFieldsAreOmitted) {
  EXPECT_EQ(Error{}.ToJson(), "{}");
  Error e;
  e.detail = "rpc: can't find method Nope";
  EXPECT_EQ(e.ToJson(), R"({"detail":"rpc: can't find method Nope"})");
  e = {};
  e.code = 500;
  EXPECT_EQ(e.ToJson(), R"({"code":500})");
}

TEST(ErrorTest, StringsEscapedAsGoJsonMarshal) {
  Error e;
  e.detail = "a<b>&c \"q\" \\ \n\t\r\b\f \x01 \x7f \xe2\x80\xa8 \xff ok \xc3\xa9";
  EXPECT_EQ(e.ToJson(), R"({"detail":"a\u003cb\u003e\u0026c \"q\" \\ \n\t\r\b\f \u0001 )"
                        "\x7f"
                        R"( \u2028 \ufffd ok )"
                        "\xc3\xa9"
                        R"("})");
}

TEST(ErrorTest, ConstructorsUseGoStatusTexts) {
  struct Case {
    Error e;
    int32_t code;
    const char* status;
  } cases[] = {
      {errors::BadRequest("x", "d"), 400, "Bad Request"},
      {errors::Unauthorized("x", "d"), 401, "Unauthorized"},
      {errors::Forbidden("x", "d"), 403, "Forbidden"},
      {errors::NotFound("x", "d"), 404, "Not Found"},
      {errors::MethodNotAllowed("x", "d"), 405, "Method Not Allowed"},
      {errors::Timeout("x", "d"), 408, "Request Timeout"},
      {errors::Conflict("x", "d"), 409, "Conflict"},
      {errors::InternalServerError("x", "d"), 500, "Internal Server Error"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.e.code, c.code);
    EXPECT_EQ(c.e.status, c.status);
    EXPECT_EQ(c.e.id, "x");
    EXPECT_EQ(c.e.detail, "d");
  }
  EXPECT_EQ(StatusText(418), "I'm a teapot");
  EXPECT_EQ(StatusText(299), "");
  EXPECT_EQ(errors::New("x", "y", 299).status, "");
}

TEST(ErrorTest, ConstructorsFormatLikeSprintf) {
  EXPECT_EQ(errors::BadRequest("svc", "bad field {} = {}", "age", -1).detail, "bad field age = -1");
  // A plain detail is taken as it is, braces included.
  EXPECT_EQ(errors::BadRequest("svc", std::string("{not a format}")).detail, "{not a format}");
}

TEST(ErrorTest, ParseRoundTrips) {
  const Error e = errors::Conflict("go.micro.srv", "version \"2\" <exists>");
  EXPECT_EQ(Error::Parse(e.ToJson()), e);
}

TEST(ErrorTest, ParseMatchesGoSemantics) {
  // Non-JSON text becomes the detail with code 0.
  Error plain = Error::Parse("rpc: can't find method Nope");
  EXPECT_EQ(plain.code, 0);
  EXPECT_EQ(plain.detail, "rpc: can't find method Nope");
  EXPECT_EQ(plain.id, "");
  // Go matches keys case-insensitively and ignores unknown ones.
  Error mixed = Error::Parse(R"({"ID":"a","Code":404,"DETAIL":"b","extra":[1,2]})");
  EXPECT_EQ(mixed.id, "a");
  EXPECT_EQ(mixed.code, 404);
  EXPECT_EQ(mixed.detail, "b");
  // null leaves everything empty, as json.Unmarshal does.
  EXPECT_EQ(Error::Parse("null"), Error{});
  EXPECT_EQ(Error::Parse(""), Error{});
  // Type errors make Go fall back to the raw text.
  for (const char* text :
       {R"({"code":"404"})", R"({"code":404.5})", R"({"code":1e3})", R"({"code":4294967296})",
        R"({"id":7})", "[1,2]", "\"str\"", "42", "{\"id\":"}) {
    Error e = Error::Parse(text);
    EXPECT_EQ(e.detail, text) << text;
    EXPECT_EQ(e.code, 0) << text;
  }
  EXPECT_EQ(Error::Parse(R"({"code":-5})").code, -5);
}

TEST(ErrorTest, ParseNeverThrowsOnDeepOrBinaryInput) {
  const std::string deep(100000, '[');
  EXPECT_EQ(Error::Parse(deep).detail, deep);
  const std::string binary("\x00\xff{\"id\x00", 8);
  EXPECT_EQ(Error::Parse(binary).detail, binary);
}

TEST(ErrorTest, SameCodeComparesCodesOnly) {
  EXPECT_TRUE(errors::SameCode(errors::NotFound("a", "x"), errors::NotFound("b", "y")));
  EXPECT_FALSE(errors::SameCode(errors::NotFound("a", "x"), errors::Conflict("a", "x")));
}

TEST(StatusTest, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad = errors::Forbidden("x", "no");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 403);
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  EXPECT_TRUE(v.status().ok());
  Result<int> e = errors::NotFound("x", "gone");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, 404);
  EXPECT_EQ(e.value_or(3), 3);
  Result<std::string> from_status = Status(errors::Timeout("x", "late"));
  EXPECT_EQ(from_status.error().code, 408);
  Result<std::string> moved = std::string("abc");
  EXPECT_EQ(std::move(moved).value(), "abc");
}

}  // namespace
}  // namespace micro
