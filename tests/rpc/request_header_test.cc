// The outgoing call's header: built in key order, with the same result as setting each field
// over the caller's metadata one after the other (what the client did before).
#include "client/request_header.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace micro::client_detail {
namespace {

// The straightforward build: the context, then each field set over it in precedence order.
Metadata Reference(const Metadata& context, const CallFields& call, const Metadata& codec_fields) {
  Metadata out;
  for (const auto& [k, v] : context) {
    if (!EqualsIgnoreCase(k, "Micro-Topic")) out.Set(k, v);
  }
  out.Set("Timeout", std::string(call.timeout));
  out.Set("Content-Type", std::string(call.content_type));
  out.Set("Accept", std::string(call.content_type));
  for (const auto& [k, v] : codec_fields) out.Set(k, v);
  out.Set("Micro-Id", std::string(call.id));
  out.Set("Micro-Service", std::string(call.service));
  out.Set("Micro-Method", std::string(call.endpoint));
  out.Set("Micro-Endpoint", std::string(call.endpoint));
  if (call.conn_close) out.Set("Connection", "close");
  return out;
}

// Keys compared case-insensitively, values exactly (the spelling of a key is not on the wire:
// the writer canonicalises it).
void ExpectSame(const Metadata& got, const Metadata& want) {
  ASSERT_EQ(got.size(), want.size());
  auto g = got.begin();
  for (const auto& [k, v] : want) {
    EXPECT_TRUE(EqualsIgnoreCase(g->first, k)) << g->first << " vs " << k;
    EXPECT_EQ(g->second, v) << k;
    ++g;
  }
}

CallFields Fields(bool close = false) {
  return {.content_type = "application/json",
          .id = "42",
          .service = "greeter",
          .endpoint = "Say.Hello",
          .timeout = "5000000000",
          .conn_close = close};
}

TEST(RequestHeaderTest, CallFieldsGoOverTheCallersMetadata) {
  const Metadata context{{"Content-Type", "text/plain"},
                         {"Micro-Id", "spoofed"},
                         {"Micro-Topic", "events"},
                         {"Timeout", "1"},
                         {"X-Trace", "abc"},
                         {"Accept", "*/*"}};
  Metadata out;
  BuildRequestHeader(out, context, Fields(), {});
  const Metadata want{{"Accept", "application/json"},  {"Content-Type", "application/json"},
                      {"Micro-Endpoint", "Say.Hello"}, {"Micro-Id", "42"},
                      {"Micro-Method", "Say.Hello"},   {"Micro-Service", "greeter"},
                      {"Timeout", "5000000000"},       {"X-Trace", "abc"}};
  ExpectSame(out, want);
  EXPECT_FALSE(out.Contains("Micro-Topic"));
  EXPECT_FALSE(out.Contains("Connection"));
}

TEST(RequestHeaderTest, ConnectionCloseOnlyWhenAsked) {
  const Metadata context{{"Connection", "keep-alive"}};
  Metadata kept, closed;
  BuildRequestHeader(kept, context, Fields(false), {});
  BuildRequestHeader(closed, context, Fields(true), {});
  EXPECT_EQ(kept.GetOr("Connection"), "keep-alive");
  EXPECT_EQ(closed.GetOr("Connection"), "close");
}

TEST(RequestHeaderTest, CodecFieldsGoOverTheContentTypeButNotTheIdentity) {
  const Metadata codec{
      {"content-type", "application/grpc+json"}, {"Micro-Service", "other"}, {"te", "trailers"}};
  Metadata out;
  BuildRequestHeader(out, {}, Fields(), codec);
  EXPECT_EQ(out.GetOr("Content-Type"), "application/grpc+json");
  EXPECT_EQ(out.GetOr("Micro-Service"), "greeter");
  EXPECT_EQ(out.GetOr("Te"), "trailers");
  ExpectSame(out, Reference({}, Fields(), codec));
}

// Random contexts (keys in any case, some equal to the call's own) give what the field-by-field
// build gives.
TEST(RequestHeaderTest, SameAsSettingFieldByField) {
  const std::vector<std::string> keys = {
      "accept",     "ACCEPT",   "Authorization", "Connection",   "content-type",
      "Host",       "micro-id", "Micro-Service", "MICRO-METHOD", "Micro-Topic",
      "Micro-From", "timeout",  "User-Agent",    "X-A",          "x-b",
      "Zzz",        "A",        "Micro-Endpoint"};
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    Metadata context, codec;
    const int n = static_cast<int>(rng() % 10);
    for (int i = 0; i < n; ++i) {
      context.Set(keys[rng() % keys.size()], "v" + std::to_string(rng() % 100));
    }
    if (rng() % 4 == 0) codec.Set(keys[rng() % keys.size()], "codec");
    const CallFields call = Fields(rng() % 2 == 0);
    Metadata out;
    BuildRequestHeader(out, context, call, codec);
    SCOPED_TRACE(round);
    ExpectSame(out, Reference(context, call, codec));
  }
}

}  // namespace
}  // namespace micro::client_detail
