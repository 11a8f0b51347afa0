// The fast protobuf <-> JSON path (src/codec/fast_json.h) against protobuf's JSON utility: what
// it writes must be byte for byte what protobuf writes, and whatever it reads must be read the
// same by protobuf. It must also actually take the common shapes (else it is no fast path).
#include "codec/fast_json.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "codec_test.pb.h"
#include "micro/codec.h"

namespace micro::codec {
namespace {

using internal::FastAppendJson;
using internal::FastReadJson;
using test::Plain;

std::string ProtobufJson(const google::protobuf::Message& m, bool original_names) {
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = original_names;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, print).ok());
  return out;
}

bool ProtobufRead(std::string_view json, google::protobuf::Message& m) {
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(json.data(), json.size()), &m, parse)
      .ok();
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

class FastJsonRandom {
 public:
  explicit FastJsonRandom(uint32_t seed) : rng_(seed) {}

  Plain Message() {
    Plain m;
    if (Coin()) m.set_text(Ascii());
    if (Coin()) m.set_i32(Int<int32_t>());
    if (Coin()) m.set_i64(Int<int64_t>());
    if (Coin()) m.set_u32(Int<uint32_t>());
    if (Coin()) m.set_u64(Int<uint64_t>());
    if (Coin()) m.set_s32(Int<int32_t>());
    if (Coin()) m.set_s64(Int<int64_t>());
    if (Coin()) m.set_f32(Int<uint32_t>());
    if (Coin()) m.set_f64(Int<uint64_t>());
    if (Coin()) m.set_sf32(Int<int32_t>());
    if (Coin()) m.set_sf64(Int<int64_t>());
    if (Coin()) m.set_flag(Coin());
    if (Coin()) m.set_blob(Bytes());
    for (int n = Small(); n > 0; --n) m.add_texts(Ascii());
    for (int n = Small(); n > 0; --n) m.add_numbers(Int<int64_t>());
    for (int n = Small(); n > 0; --n) m.add_flags(Coin());
    if (Coin()) *m.mutable_item() = Item(2);
    for (int n = Small(); n > 0; --n) *m.add_items() = Item(1);
    for (int n = Small(); n > 0; --n) m.add_small(Int<uint32_t>());
    if (Coin()) m.set_snake_case_name(Ascii());
    for (int n = Small(); n > 0; --n) m.add_signed_values(Int<int32_t>());
    return m;
  }

 private:
  Plain::Item Item(int depth) {
    Plain::Item item;
    if (Coin()) item.set_name(Ascii());
    if (Coin()) item.set_count(Int<int64_t>());
    for (int n = Small(); n > 0; --n) item.add_parts(Bytes());
    if (depth > 0 && Coin()) *item.mutable_child() = Item(depth - 1);
    return item;
  }
  bool Coin() { return rng_() % 2 == 0; }
  int Small() { return static_cast<int>(rng_() % 4); }
  template <typename T>
  T Int() {
    switch (rng_() % 4) {
      case 0:
        return std::numeric_limits<T>::min();
      case 1:
        return std::numeric_limits<T>::max();
      case 2:
        return static_cast<T>(rng_() % 100);
      default:
        return static_cast<T>(rng_() | (uint64_t{rng_()} << 32));
    }
  }
  // Every ASCII byte, the control characters and the ones protobuf escapes included.
  std::string Ascii() {
    std::string s(rng_() % 12, ' ');
    for (char& c : s) c = static_cast<char>(rng_() % 0x80);
    return s;
  }
  std::string Bytes() {
    std::string s(rng_() % 10, ' ');
    for (char& c : s) c = static_cast<char>(rng_() % 256);
    return s;
  }
  std::mt19937 rng_;
};

TEST(FastJsonTest, TakesPlainMessagesAndLeavesTheRestToProtobuf) {
  Plain plain;
  plain.set_text("hi");
  std::string out = "x";
  EXPECT_TRUE(FastAppendJson(plain, {}, out));
  EXPECT_EQ(out, R"(x{"text":"hi"})");

  test::Everything everything;  // map, double, enum, optional: not for the fast path
  everything.set_user_name("a");
  out = "x";
  EXPECT_FALSE(FastAppendJson(everything, {}, out));
  EXPECT_EQ(out, "x");
  EXPECT_FALSE(FastReadJson(R"({"userName":"a"})", everything));

  test::OutOfOrder odd;
  EXPECT_FALSE(FastAppendJson(odd, {}, out));
  EXPECT_FALSE(FastAppendJson(plain, {.emit_defaults = true}, out));

  plain.set_text("caf\xC3\xA9");  // non-ASCII strings: protobuf's (it escapes some code points)
  EXPECT_FALSE(FastAppendJson(plain, {}, out));
  EXPECT_EQ(out, "x");
}

TEST(FastJsonTest, WritesExactlyWhatProtobufWrites) {
  FastJsonRandom random(1);
  for (int i = 0; i < 3000; ++i) {
    const Plain m = random.Message();
    for (bool original : {false, true}) {
      std::string fast;
      ASSERT_TRUE(FastAppendJson(m, {.original_field_names = original}, fast));
      ASSERT_EQ(fast, ProtobufJson(m, original)) << m.DebugString();
    }
  }
}

TEST(FastJsonTest, EveryAsciiCharacterIsEscapedAsProtobufDoes) {
  for (int c = 1; c < 0x80; ++c) {
    Plain m;
    m.set_text(std::string("a") + static_cast<char>(c) + "b");
    std::string fast;
    ASSERT_TRUE(FastAppendJson(m, {}, fast));
    EXPECT_EQ(fast, ProtobufJson(m, false)) << "character " << c;
  }
}

TEST(FastJsonTest, ReadsWhatProtobufWritesInBothNameForms) {
  FastJsonRandom random(2);
  for (int i = 0; i < 3000; ++i) {
    const Plain m = random.Message();
    for (bool original : {false, true}) {
      const std::string json = ProtobufJson(m, original);
      Plain back;
      ASSERT_TRUE(FastReadJson(json, back)) << json;
      ASSERT_TRUE(Same(back, m)) << json << "\n" << back.DebugString();
    }
  }
}

// Whatever the fast reader accepts, protobuf reads to the same message.
void ExpectAgreement(std::string_view json) {
  Plain fast, slow;
  if (!FastReadJson(json, fast)) return;
  ASSERT_TRUE(ProtobufRead(json, slow)) << "fast path accepted what protobuf refuses: " << json;
  ASSERT_TRUE(Same(fast, slow)) << json << "\nfast: " << fast.DebugString()
                                << "\nprotobuf: " << slow.DebugString();
}

TEST(FastJsonTest, AgreesWithProtobufOnOddInput) {
  const char* cases[] = {
      R"({"i32":"12"})",
      R"({"i32":-0})",
      R"({"i32":01})",
      R"({"i32":1e2})",
      R"({"i32":1.0})",
      R"({"i32":2147483648})",
      R"({"u32":-1})",
      R"({"i64":"-9223372036854775808"})",
      R"({"u64":18446744073709551615})",
      R"({"unknown":1})",
      R"({"text":null})",
      R"({"text":"a","text":"b"})",
      R"({"text":"a","text":"b"})",
      R"({"snakeCaseName":"a","snake_case_name":"b"})",
      R"({"blob":"_-8="})",
      R"({"blob":"QQ"})",
      R"({"blob":"QR=="})",
      R"({"blob":"QUI="})",
      R"({"text":"\u00e9\ud83d\ude00"})",
      R"({"text":"\ud83d"})",
      R"({"text":"\udc00"})",
      "{\"text\":\"\xC3\"}",
      "{\"text\":\"\xC3\xA9\"}",
      R"({"text":"\u0000"})",
      R"({"flag":"true"})",
      R"({"flag":1})",
      R"({"texts":"a"})",
      R"({"texts":[null]})",
      R"({"item":null})",
      R"({"item":{"child":{"child":{}}}})",
      R"( { "i32" : 1 , "texts" : [ "a" , "b" ] } )",
      R"({"i32":1,})",
      R"({"i32":1}x)",
      R"([])",
      R"("x")",
      R"({"text":"a\/b\"c\\"})",
      R"({"i32":+1})",
      R"({"items":[{},{"name":"x"}]})",
  };
  for (const char* c : cases) ExpectAgreement(c);
  // The common spellings are taken by the fast path, not only declined safely.
  Plain m;
  EXPECT_TRUE(FastReadJson(R"( { "i32" : 1 , "texts" : [ "a" , "b" ] } )", m));
  EXPECT_TRUE(FastReadJson(R"({"i64":"12","u64":12,"text":"\u00e9"})", m));
  std::string deep = std::string(200, '[');
  EXPECT_FALSE(FastReadJson(deep, m));
}

TEST(FastJsonTest, AgreesWithProtobufOnMutatedInput) {
  FastJsonRandom random(3);
  std::mt19937 rng(4);
  static constexpr std::string_view kPieces = "{}[]\",:0-9eE.\\u a";  // inserted at random
  for (int i = 0; i < 3000; ++i) {
    std::string json = ProtobufJson(random.Message(), rng() % 2 == 0);
    for (int k = 0; k < 3; ++k) {
      const std::size_t at = rng() % (json.size() + 1);
      switch (rng() % 3) {
        case 0:
          json.insert(at, 1, kPieces[rng() % kPieces.size()]);
          break;
        case 1:
          if (at < json.size()) json.erase(at, 1);
          break;
        default:
          if (at < json.size()) json[at] = static_cast<char>(rng() % 256);
      }
    }
    ExpectAgreement(json);
  }
}

TEST(FastJsonTest, TheJsonCodecUsesItAndStillReportsBadInput) {
  auto codec = *Lookup("application/json");
  Plain m;
  m.set_blob(std::string(64 * 1024, '\x7f'));
  m.add_items()->set_name("x");
  std::string body;
  Message head;
  ASSERT_TRUE(codec->Write(head, &m, body));
  std::string_view payload;
  Message in;
  ASSERT_TRUE(codec->ReadHeader(body, in, payload));
  Plain back;
  ASSERT_TRUE(codec->Read(payload, &back));
  EXPECT_TRUE(Same(back, m));

  // Declined by the fast path, decided by protobuf: unknown fields are ignored ...
  ASSERT_TRUE(codec->Read(R"({"text":"a","later":{"x":[1]}})", &back));
  EXPECT_EQ(back.text(), "a");
  EXPECT_TRUE(back.items().empty());  // cleared after the fast path's partial read
  // ... and bad input is a 400 from the codec.
  auto bad = codec->Read(R"({"i32":"x"})", &back);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 400);
}

}  // namespace
}  // namespace micro::codec
