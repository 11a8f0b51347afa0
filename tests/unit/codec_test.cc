// Codec round trips, the go-micro wire bodies byte for byte, and the content-type table.
#include "micro/codec.h"

#include <gtest/gtest.h>

#include "codec_test.pb.h"
#include "greeter.pb.h"
#include "unit/content_type_names.h"

namespace micro::codec {
namespace {

using micro::test::Everything;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

std::shared_ptr<const Codec> Get(std::string_view content_type) {
  auto c = Lookup(content_type);
  EXPECT_TRUE(c.ok()) << content_type;
  return *c;
}

Everything Sample() {
  Everything e;
  e.set_user_name("Ada <Lovelace> & co");
  e.set_big(9007199254740993);  // not representable as a double: must travel as a string
  e.set_small(-7);
  e.set_flag(true);
  e.set_ratio(0.25);
  e.set_blob(std::string("\0\x01\xff", 3));
  e.add_tags("a");
  e.add_tags("b");
  (*e.mutable_labels())["k"] = "v";
  e.mutable_inner()->set_value("x");
  e.mutable_inner()->add_children()->set_value("y");
  e.set_kind(Everything::KIND_A);
  e.set_maybe("");  // proto3 optional: present though empty
  return e;
}

// --- go-micro wire bodies (reference/go-micro-wire.md) ---

TEST(CodecWireTest, JsonBodiesMatchGoMicro) {
  auto json = Get("application/json");
  greeter::Request req;
  req.set_name("John");
  Message m;
  std::string out;
  ASSERT_TRUE(json->Write(m, &req, out).ok());
  EXPECT_EQ(out, "{\"name\":\"John\"}\n");

  greeter::Response rsp;
  rsp.set_msg("Hello John");
  m.type = MessageType::kResponse;
  ASSERT_TRUE(json->Write(m, &rsp, out).ok());
  EXPECT_EQ(out, "{\"msg\":\"Hello John\"}\n");

  // And the captured response decodes.
  greeter::Response back;
  std::string_view payload;
  const std::string frame = "{\"msg\":\"Hello John\"}\n";
  ASSERT_TRUE(json->ReadHeader(frame, m, payload).ok());
  ASSERT_TRUE(json->Read(payload, &back).ok());
  EXPECT_EQ(back.msg(), "Hello John");
}

TEST(CodecWireTest, ProtobufBodiesMatchGoMicro) {
  auto proto = Get("application/protobuf");
  greeter::Request req;
  req.set_name("John");
  Message m;
  std::string out;
  ASSERT_TRUE(proto->Write(m, &req, out).ok());
  EXPECT_EQ(out, Bytes({0x0a, 0x04, 0x4a, 0x6f, 0x68, 0x6e}));

  greeter::Response rsp;
  rsp.set_msg("Hello John");
  ASSERT_TRUE(proto->Write(m, &rsp, out).ok());
  EXPECT_EQ(out, Bytes({0x0a, 0x0a, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x4a, 0x6f, 0x68, 0x6e}));

  greeter::Response back;
  ASSERT_TRUE(proto->Read(out, &back).ok());
  EXPECT_EQ(back.msg(), "Hello John");
}

// --- JSON naming ---

TEST(JsonCodecTest, LowerCamelCaseByDefaultOriginalNamesOnRequest) {
  Everything e;
  e.set_user_name("x");
  Message m;
  std::string out;
  ASSERT_TRUE(NewJsonCodec()->Write(m, &e, out).ok());
  EXPECT_EQ(out, "{\"userName\":\"x\"}\n");
  ASSERT_TRUE(NewJsonCodec({.original_field_names = true})->Write(m, &e, out).ok());
  EXPECT_EQ(out, "{\"user_name\":\"x\"}\n");
  // Either spelling decodes, whatever the writer's option.
  Everything back;
  ASSERT_TRUE(NewJsonCodec()->Read(R"({"user_name":"y"})", &back).ok());
  EXPECT_EQ(back.user_name(), "y");
}

TEST(JsonCodecTest, Int64TravelsAsStringAndUnknownFieldsAreIgnored) {
  Everything e;
  e.set_big(9007199254740993);
  Message m;
  std::string out;
  ASSERT_TRUE(NewJsonCodec()->Write(m, &e, out).ok());
  EXPECT_EQ(out, "{\"big\":\"9007199254740993\"}\n");
  Everything back;
  ASSERT_TRUE(
      NewJsonCodec()->Read(R"({"big":"9007199254740993","addedLater":{"x":[1]}})", &back).ok());
  EXPECT_EQ(back.big(), 9007199254740993);
}

TEST(JsonCodecTest, EmitDefaultsOption) {
  Everything e;
  Message m;
  std::string out;
  ASSERT_TRUE(NewJsonCodec({.emit_defaults = true})->Write(m, &e, out).ok());
  EXPECT_NE(out.find("\"small\":0"), std::string::npos) << out;
}

// --- Round trips through every codec in the table ---

class RoundTripTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTripTest, RequestAndResponse) {
  auto codec = Get(GetParam());
  const Everything sent = Sample();
  for (auto type : {MessageType::kRequest, MessageType::kResponse}) {
    Message out_msg;
    out_msg.type = type;
    out_msg.id = "42";
    out_msg.target = "greeter";
    out_msg.method = out_msg.endpoint = "Greeter.Hello";
    std::string frame;
    ASSERT_TRUE(codec->Write(out_msg, &sent, frame).ok()) << GetParam();

    Message in_msg;
    in_msg.type = type;
    in_msg.header = out_msg.header;  // what the transport would carry
    std::string_view payload;
    ASSERT_TRUE(codec->ReadHeader(frame, in_msg, payload).ok()) << GetParam();
    Everything got;
    auto st = codec->Read(payload, &got);
    ASSERT_TRUE(st.ok()) << GetParam() << " " << st.error();
    EXPECT_EQ(got.SerializeAsString(), sent.SerializeAsString()) << GetParam();
    EXPECT_TRUE(got.has_maybe()) << GetParam();
  }
}

TEST_P(RoundTripTest, FramesPassThroughUntouched) {
  auto codec = Get(GetParam());
  const bool json_family = GetParam().find("json") != std::string::npos;
  Frame sent{json_family ? R"({"any":["json",1]})" : std::string("\x0a\x01z", 3)};
  Message m;
  m.type = MessageType::kResponse;
  std::string frame;
  ASSERT_TRUE(codec->Write(m, &sent, frame).ok());
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(frame, m, payload).ok());
  Frame got;
  ASSERT_TRUE(codec->Read(payload, &got).ok());
  EXPECT_EQ(got.data, sent.data) << GetParam();
}

TEST_P(RoundTripTest, EmptyMessage) {
  auto codec = Get(GetParam());
  Everything empty;
  Message m;
  m.type = MessageType::kResponse;
  std::string frame;
  ASSERT_TRUE(codec->Write(m, &empty, frame).ok());
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(frame, m, payload).ok());
  Everything got = Sample();
  ASSERT_TRUE(codec->Read(payload, &got).ok());
  EXPECT_EQ(got.ByteSizeLong(), 0u) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(EveryContentType, RoundTripTest, ::testing::ValuesIn(ContentTypes()),
                         testing_util::ContentTypeTestName);

// --- Framing of the legacy codecs ---

TEST(JsonRpcCodecTest, EnvelopesAsNetRpc) {
  auto codec = Get("application/json-rpc");
  greeter::Request req;
  req.set_name("John");
  Message m;
  m.method = "Greeter.Hello";
  m.id = "3";
  std::string out;
  ASSERT_TRUE(codec->Write(m, &req, out).ok());
  EXPECT_EQ(out, "{\"method\":\"Greeter.Hello\",\"params\":[{\"name\":\"John\"}],\"id\":3}\n");

  Message server;
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(out, server, payload).ok());
  EXPECT_EQ(server.endpoint, "Greeter.Hello");
  EXPECT_EQ(server.id, "3");
  EXPECT_EQ(payload, "{\"name\":\"John\"}");

  greeter::Response rsp;
  rsp.set_msg("hi");
  server.type = MessageType::kResponse;
  ASSERT_TRUE(codec->Write(server, &rsp, out).ok());
  EXPECT_EQ(out, "{\"id\":3,\"result\":{\"msg\":\"hi\"},\"error\":null}\n");

  server.type = MessageType::kError;
  server.error = "boom";
  ASSERT_TRUE(codec->Write(server, {}, out).ok());
  EXPECT_EQ(out, "{\"id\":3,\"result\":null,\"error\":\"boom\"}\n");

  Message client;
  client.type = MessageType::kResponse;
  ASSERT_TRUE(codec->ReadHeader(out, client, payload).ok());
  EXPECT_EQ(client.error, "boom");
  EXPECT_EQ(client.id, "3");
  EXPECT_TRUE(payload.empty());
}

TEST(JsonRpcCodecTest, ReadsStringIdsAndEmptyErrors) {
  auto codec = Get("application/json-rpc");
  Message m;
  m.type = MessageType::kResponse;
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(R"({"id":"7","result":{"msg":"x"},"error":""})", m, payload).ok());
  EXPECT_EQ(m.id, "7");
  EXPECT_EQ(m.error, "unspecified error");
  EXPECT_EQ(payload, R"({"msg":"x"})");
}

TEST(ProtoRpcCodecTest, NetstringsWithEnvelopes) {
  auto codec = Get("application/proto-rpc");
  greeter::Request req;
  req.set_name("John");
  Message m;
  m.method = "Greeter.Hello";
  m.id = "1";
  std::string out;
  ASSERT_TRUE(codec->Write(m, &req, out).ok());
  // be32(24) {0a 0d "Greeter.Hello" 11 <fixed64 1>} be32(6) {0a 04 "John"}
  const std::string expected = Bytes({0, 0, 0, 24, 0x0a, 13}) + "Greeter.Hello" +
                               Bytes({0x11, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0x0a, 4}) + "John";
  EXPECT_EQ(out, expected);

  Message server;
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(out, server, payload).ok());
  EXPECT_EQ(server.method, "Greeter.Hello");
  EXPECT_EQ(server.id, "1");

  // A response always carries the error field, even when empty (1a 00), as go-micro writes.
  server.type = MessageType::kResponse;
  ASSERT_TRUE(codec->Write(server, {}, out).ok());
  EXPECT_EQ(out, Bytes({0, 0, 0, 26, 0x0a, 13}) + "Greeter.Hello" +
                     Bytes({0x11, 1, 0, 0, 0, 0, 0, 0, 0, 0x1a, 0, 0, 0, 0, 0}));
}

TEST(GrpcCodecTest, LengthPrefixAndHeaders) {
  auto codec = Get("application/grpc");
  greeter::Request req;
  req.set_name("John");
  Message m;
  m.target = "greeter";
  m.endpoint = "Greeter.Hello";
  std::string out;
  ASSERT_TRUE(codec->Write(m, &req, out).ok());
  EXPECT_EQ(out, Bytes({0, 0, 0, 0, 6, 0x0a, 4}) + "John");
  EXPECT_EQ(m.header.GetOr(":path"), "/greeter.Greeter/Hello");
  EXPECT_EQ(m.header.GetOr("content-type"), "application/grpc");
  EXPECT_EQ(m.header.GetOr("te"), "trailers");

  Message server;
  server.header = m.header;
  std::string_view payload;
  ASSERT_TRUE(codec->ReadHeader(out, server, payload).ok());
  EXPECT_EQ(server.target, "greeter");
  EXPECT_EQ(server.endpoint, "Greeter.Hello");

  Message eos;
  eos.type = MessageType::kError;
  eos.error = "EOS";
  ASSERT_TRUE(codec->Write(eos, {}, out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(eos.header.GetOr("grpc-status"), "0");
  Message fail;
  fail.type = MessageType::kError;
  fail.error = "boom";
  ASSERT_TRUE(codec->Write(fail, {}, out).ok());
  EXPECT_EQ(fail.header.GetOr("grpc-status"), "13");
  EXPECT_EQ(fail.header.GetOr("grpc-message"), "boom");
}

TEST(GrpcCodecTest, JsonFlavourAndSizeLimit) {
  auto codec = Get("application/grpc+json");
  greeter::Request req;
  req.set_name("John");
  Message m;
  m.type = MessageType::kResponse;
  std::string out;
  ASSERT_TRUE(codec->Write(m, &req, out).ok());
  EXPECT_EQ(out, Bytes({0, 0, 0, 0, 15}) + "{\"name\":\"John\"}");

  Frame big{std::string(kMaxGrpcMessageSize + 1, 'x')};
  auto st = Get("application/grpc")->Write(m, &big, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 500);
  EXPECT_EQ(m.header.GetOr("grpc-status"), "8");
}

// --- The table ---

TEST(CodecTableTest, KnowsEveryGoMicroContentType) {
  EXPECT_EQ(ContentTypes(),
            (std::vector<std::string>{"application/grpc", "application/grpc+json",
                                      "application/grpc+proto", "application/json",
                                      "application/json-rpc", "application/octet-stream",
                                      "application/proto-rpc", "application/protobuf"}));
  EXPECT_EQ(Get("application/json")->String(), "json");
  EXPECT_EQ(Get("application/protobuf")->String(), "proto");
  EXPECT_EQ(Get("application/octet-stream")->String(), "bytes");
  EXPECT_EQ(Get("application/json-rpc")->String(), "jsonrpc");
  EXPECT_EQ(Get("application/proto-rpc")->String(), "protorpc");
  EXPECT_EQ(Get("application/grpc+proto")->String(), "grpc");
}

TEST(CodecTableTest, IgnoresParametersAndCase) {
  EXPECT_EQ(Get("Application/JSON; charset=utf-8")->ContentType(), "application/json");
}

TEST(CodecTableTest, UnknownTypeNamesTheKnownOnes) {
  auto r = Lookup("text/xml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 400);
  EXPECT_NE(r.error().detail.find("unsupported Content-Type: \"text/xml\""), std::string::npos);
  EXPECT_NE(r.error().detail.find("application/json"), std::string::npos);
  EXPECT_NE(r.error().detail.find("application/grpc+json"), std::string::npos);
}

TEST(CodecTableTest, RegisterReplacesACodec) {
  RegisterCodec("application/x-test", NewJsonCodec({.original_field_names = true}));
  EXPECT_EQ(Get("application/x-test")->String(), "json");
  const auto types = ContentTypes();
  EXPECT_NE(std::find(types.begin(), types.end(), "application/x-test"), types.end());
}

}  // namespace
}  // namespace micro::codec
