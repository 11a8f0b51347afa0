// Truncated, oversized and garbage input to every decoder: a 400 Error, never a crash.
#include <gtest/gtest.h>

#include <random>

#include "codec_test.pb.h"
#include "greeter.pb.h"
#include "micro/codec.h"
#include "unit/content_type_names.h"

namespace micro::codec {
namespace {

// Runs ReadHeader + Read on frame as both a request and a response; returns the first error.
Status Decode(const Codec& codec, std::string_view frame, Message m = {}) {
  for (auto type : {MessageType::kRequest, MessageType::kResponse}) {
    m.type = type;
    std::string_view payload;
    if (auto s = codec.ReadHeader(frame, m, payload); !s) return s;
    micro::test::Everything msg;
    if (auto s = codec.Read(payload, &msg); !s) return s;
  }
  return {};
}

void ExpectBadRequest(const Codec& codec, std::string_view frame) {
  auto s = Decode(codec, frame);
  ASSERT_FALSE(s.ok()) << codec.ContentType() << " accepted " << testing::PrintToString(frame);
  EXPECT_EQ(s.error().code, 400) << s.error();
  EXPECT_EQ(s.error().id, "go.micro.codec");
  EXPECT_FALSE(s.error().detail.empty());
}

std::string ValidFrame(const Codec& codec) {
  micro::test::Everything e;
  e.set_user_name("a reasonably long name to truncate");
  e.add_tags("t");
  e.set_big(1);
  Message m;
  m.id = "1";
  m.target = "svc";
  m.method = m.endpoint = "H.M";
  std::string out;
  EXPECT_TRUE(codec.Write(m, &e, out).ok());
  return out;
}

class BadInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<const Codec> codec_ = *Lookup(GetParam());
};

TEST_P(BadInputTest, TruncatedFramesAreRejectedOrDecodeToSomethingValid) {
  const std::string frame = ValidFrame(*codec_);
  for (size_t n = 1; n < frame.size(); ++n) {
    // Raw protobuf may legitimately decode a prefix; everything else must say no.
    (void)Decode(*codec_, std::string_view(frame).substr(0, n));
  }
  if (GetParam() != "application/protobuf" && GetParam() != "application/octet-stream") {
    ExpectBadRequest(*codec_, std::string_view(frame).substr(0, frame.size() - 3));
  }
}

TEST_P(BadInputTest, GarbageIsRejectedWithoutCrashing) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    (void)Decode(*codec_, junk);
  }
  ExpectBadRequest(*codec_, std::string("\xff\xff\xff\xff\xff\xff\xff", 7));
}

TEST_P(BadInputTest, DeeplyNestedInputIsRejected) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto s = Decode(*codec_, deep);
  EXPECT_FALSE(s.ok());
  const std::string deep_obj = "{\"inner\":" + std::string(5000, '[') + "}";
  EXPECT_FALSE(Decode(*codec_, deep_obj).ok());
}

INSTANTIATE_TEST_SUITE_P(EveryContentType, BadInputTest, ::testing::ValuesIn(ContentTypes()),
                         testing_util::ContentTypeTestName);

TEST(BadInputSpecificTest, JsonWrongTypesAndSyntax) {
  auto json = *Lookup("application/json");
  for (const char* text : {"{", "{\"userName\":1}", "{\"big\":\"x\"}", "[1]", "{\"small\":1e40}",
                           "\"str\"", "{\"blob\":\"***\"}"}) {
    ExpectBadRequest(*json, text);
  }
}

TEST(BadInputSpecificTest, JsonRpcMalformedEnvelopes) {
  auto codec = *Lookup("application/json-rpc");
  Message m;
  std::string_view payload;
  for (const char* text :
       {"[]", "{\"params\":[]}", "{\"method\":1}", "{\"method\":\"a\",\"params\":{}}",
        "{\"method\":\"a\",\"params\":[1,2]}", "{\"method\":\"a\",\"id\":[1]}", "not json"}) {
    m.type = MessageType::kRequest;
    EXPECT_FALSE(codec->ReadHeader(text, m, payload).ok()) << text;
  }
  m.type = MessageType::kResponse;
  EXPECT_FALSE(codec->ReadHeader("{\"id\":1,\"error\":{\"x\":1}}", m, payload).ok());
}

TEST(BadInputSpecificTest, ProtoRpcLengthsBeyondTheFrame) {
  auto codec = *Lookup("application/proto-rpc");
  ExpectBadRequest(*codec, std::string("\x00\x00\x00\x05\x0a", 5));
  ExpectBadRequest(*codec, std::string("\x7f\xff\xff\xff", 4));
  ExpectBadRequest(*codec, std::string("\x00\x00\x00\x00\x00\x00\x00\x00trailing", 16));
  ExpectBadRequest(*codec, std::string("\x00\x00\x00\x00", 4));  // no body netstring
}

TEST(BadInputSpecificTest, GrpcPrefixChecks) {
  auto codec = *Lookup("application/grpc");
  ExpectBadRequest(*codec, std::string("\x00\x00\x00", 3));                   // short prefix
  ExpectBadRequest(*codec, std::string("\x01\x00\x00\x00\x00", 5));           // compressed
  ExpectBadRequest(*codec, std::string("\x00\x00\x40\x00\x01", 5));           // > 4 MiB
  ExpectBadRequest(*codec, std::string("\x00\x00\x00\x00\x09\x0a\x01x", 8));  // short payload
  ExpectBadRequest(*codec, std::string("\x00\x00\x00\x00\x01\x0a\x0a", 7));   // trailing
  Message m;
  m.header.Set(":path", "/a/b/c");
  std::string_view payload;
  EXPECT_FALSE(codec->ReadHeader("", m, payload).ok());
}

TEST(BadInputSpecificTest, ProtobufInvalidWireData) {
  auto codec = *Lookup("application/protobuf");
  ExpectBadRequest(*codec, std::string("\x0a\x7f", 2));  // length past the end
  ExpectBadRequest(*codec, std::string("\x0f", 1));      // invalid wire type
  // Oversized: a 64 MiB length prefix in a few bytes.
  ExpectBadRequest(*codec, std::string("\x0a\x80\x80\x80\x20", 5));
}

}  // namespace
}  // namespace micro::codec
