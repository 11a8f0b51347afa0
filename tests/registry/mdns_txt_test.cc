// go-micro's mDNS TXT encoding and the records of the captured go-micro announcement, without
// any network.
#include <gtest/gtest.h>
#include <micro/plugin/compress.h>
#include <zlib.h>

#include "registry/go_micro_vectors.h"
#include "registry/mdns_records.h"

namespace micro::mdns {
namespace {

using testing::kCapturedInstance;
using testing::kCapturedNodeId;
using testing::kCapturedTxtJson;

// What go-micro's decode() does: join, hex.DecodeString, zlib.NewReader (checks the zlib
// header and the Adler-32 trailer), ReadAll.
std::optional<std::string> GoStyleDecode(const std::vector<std::string>& strings) {
  std::string hex;
  for (const auto& s : strings) hex += s;
  if (hex.size() % 2) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  if (bytes.size() < 2) return std::nullopt;
  const auto cmf = static_cast<unsigned char>(bytes[0]), flg = static_cast<unsigned char>(bytes[1]);
  if ((cmf & 0x0F) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0 || (flg & 0x20)) {
    return std::nullopt;  // Go's zlib reader: deflate, window <= 32K, valid FCHECK, no dict
  }
  return plugin::Inflate(bytes, mdns::kMaxInflated);
}

registry::MdnsTxt CapturedTxt() {
  auto txt = registry::MdnsTxtFromJson(kCapturedTxtJson);
  EXPECT_TRUE(txt.ok());
  return *txt;
}

TEST(MdnsTxtTest, CapturedJsonParsesAndIsWrittenBackByteForByte) {
  registry::MdnsTxt txt = CapturedTxt();
  EXPECT_EQ(txt.service, "greeter");
  EXPECT_EQ(txt.version, "latest");
  EXPECT_EQ(txt.metadata.at("protocol"), "mucp");
  ASSERT_EQ(txt.endpoints.size(), 1u);
  EXPECT_EQ(txt.endpoints[0].name, "Greeter.Hello");
  EXPECT_EQ(txt.endpoints[0].request->values[0].name, "name");
  EXPECT_EQ(registry::MdnsTxtJson(txt), kCapturedTxtJson);
}

TEST(MdnsTxtTest, EncodingIsWhatAGoMicroDecoderAccepts) {
  auto strings = EncodeTxt(CapturedTxt());
  ASSERT_FALSE(strings.empty());
  for (const auto& s : strings) {
    EXPECT_LE(s.size(), 255u);
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
  }
  for (size_t i = 0; i + 1 < strings.size(); ++i) EXPECT_EQ(strings[i].size(), 255u);
  auto json = GoStyleDecode(strings);
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(*json, kCapturedTxtJson);
}

TEST(MdnsTxtTest, DecodesTxtFromOtherZlibEncoders) {
  const std::string json(kCapturedTxtJson);
  for (int level : {0, 1, 9}) {
    uLongf len = compressBound(json.size());
    std::string z(len, '\0');
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(z.data()), &len,
                        reinterpret_cast<const Bytef*>(json.data()), json.size(), level),
              Z_OK);
    z.resize(len);
    std::string hex;
    for (unsigned char c : z) hex += fmt::format("{:02X}", c);  // upper case: Go accepts it too
    std::vector<std::string> strings;
    for (size_t i = 0; i < hex.size(); i += 100) strings.push_back(hex.substr(i, 100));
    auto txt = DecodeTxt(strings);
    ASSERT_TRUE(txt.ok()) << txt.error();
    EXPECT_EQ(*txt, CapturedTxt());
  }
}

TEST(MdnsTxtTest, RejectsBadTxt) {
  EXPECT_FALSE(DecodeTxt({}).ok());
  EXPECT_FALSE(DecodeTxt({"abc"}).ok());
  EXPECT_FALSE(DecodeTxt({"zz"}).ok());
  EXPECT_FALSE(DecodeTxt({"78da00"}).ok());
  auto good = EncodeTxt(CapturedTxt());
  good.back().pop_back();
  good.back().pop_back();
  EXPECT_FALSE(DecodeTxt(good).ok());  // truncated stream
  // A zlib bomb: 4 MiB of zeros inflates past the limit.
  const std::string zeros(4 << 20, '\0');
  std::string z = plugin::Deflate(zeros);
  std::string hex;
  for (unsigned char c : z) hex += fmt::format("{:02x}", c);
  auto bomb = DecodeTxt({hex});
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.error().code, 400);
}

// The records go-micro announced for its greeter (capture: SRV 10 1 18080 vm, A 127.0.0.1,
// TXT), decoded into a registry service.
dns::Message CapturedAnnouncement(uint32_t ttl) {
  dns::Message m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  dns::Record srv;
  srv.name = std::string(kCapturedInstance);
  srv.type = dns::kTypeSrv;
  srv.ttl = ttl;
  srv.priority = 10;
  srv.weight = 1;
  srv.port = 18080;
  srv.target = "vm.";
  dns::Record a;
  a.name = "vm.";
  a.type = dns::kTypeA;
  a.ttl = ttl;
  a.address = {127, 0, 0, 1};
  dns::Record txt;
  txt.name = std::string(kCapturedInstance);
  txt.type = dns::kTypeTxt;
  txt.ttl = ttl;
  txt.txt = EncodeTxt(CapturedTxt());
  m.answers = {srv, a, txt};
  return m;
}

TEST(MdnsRecordsTest, DecodesTheCapturedGoMicroAnnouncement) {
  auto bytes = dns::Encode(CapturedAnnouncement(120));
  ASSERT_TRUE(bytes.ok());
  auto msg = dns::Decode(*bytes);
  ASSERT_TRUE(msg.ok()) << msg.error();
  auto entries = Entries(*msg);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_TRUE(entries[0].Complete());
  EXPECT_EQ(entries[0].ttl, 120u);
  auto svc = ToService(entries[0], "greeter", "micro");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->name, "greeter");
  EXPECT_EQ(svc->version, "latest");
  ASSERT_EQ(svc->nodes.size(), 1u);
  EXPECT_EQ(svc->nodes[0].id, kCapturedNodeId);
  EXPECT_EQ(svc->nodes[0].address, "127.0.0.1:18080");
  EXPECT_EQ(svc->nodes[0].metadata.at("registry"), "mdns");
  ASSERT_EQ(svc->endpoints.size(), 1u);
  EXPECT_EQ(svc->endpoints[0].response->name, "Response");
  EXPECT_FALSE(ToService(entries[0], "other", "micro").has_value());
  EXPECT_FALSE(ToService(entries[0], "greeter", "local").has_value());
}

TEST(MdnsRecordsTest, NodeZoneMatchesGoMicrosRecords) {
  registry::Service s;
  s.name = "greeter";
  s.version = "latest";
  s.endpoints = CapturedTxt().endpoints;
  registry::Node n;
  n.id = std::string(kCapturedNodeId);
  n.address = "127.0.0.1:18080";
  n.metadata = CapturedTxt().metadata;
  auto zone = MakeNodeZone(s, n, "micro", "vm");
  ASSERT_TRUE(zone.ok()) << zone.error();
  auto recs = ZoneRecords(*zone, "micro", kRecordTtl);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].type, dns::kTypePtr);
  EXPECT_EQ(recs[0].name, "greeter.micro.");
  EXPECT_EQ(recs[0].target, kCapturedInstance);
  EXPECT_EQ(recs[1].type, dns::kTypeSrv);
  EXPECT_EQ(recs[1].priority, 10);
  EXPECT_EQ(recs[1].weight, 1);
  EXPECT_EQ(recs[1].port, 18080);
  EXPECT_EQ(recs[1].target, "vm.");
  EXPECT_EQ(recs[2].type, dns::kTypeTxt);
  EXPECT_EQ(GoStyleDecode(recs[2].txt), std::string(kCapturedTxtJson));
  EXPECT_EQ(recs[3].type, dns::kTypeA);
  EXPECT_EQ(recs[3].name, "vm.");
  for (const auto& r : recs) EXPECT_EQ(r.ttl, 120u);

  // Questions go-micro asks: PTR for the service, ANY for the instance, DNS-SD enumeration.
  EXPECT_EQ(Answer(*zone, "micro", {.name = "greeter.micro.", .type = dns::kTypePtr}).size(), 4u);
  EXPECT_EQ(Answer(*zone, "micro", {.name = std::string(kCapturedInstance), .type = dns::kTypeAny})
                .size(),
            3u);
  EXPECT_TRUE(Answer(*zone, "micro", {.name = "other.micro.", .type = dns::kTypePtr}).empty());
  auto wildcard = MakeWildcardZone("greeter", "micro", "vm");
  auto list = Answer(wildcard, "micro", {.name = "_services.micro.", .type = dns::kTypePtr});
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0].target, "greeter._services.micro.");
  EXPECT_EQ(list[1].port, kWildcardPort);
}

TEST(MdnsRecordsTest, RejectsAddressesThatAreNotIpPort) {
  registry::Service s;
  s.name = "x";
  registry::Node n;
  n.id = "x-1";
  for (const char* bad :
       {"", "127.0.0.1", "host:80", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:8x"}) {
    n.address = bad;
    EXPECT_FALSE(MakeNodeZone(s, n, "micro", "vm").ok()) << bad;
  }
  n.address = "[::1]:80";
  auto z = MakeNodeZone(s, n, "micro", "vm");
  ASSERT_TRUE(z.ok());
  EXPECT_TRUE(z->ipv6.has_value());
  n.address = "127.0.0.1:80";
  n.id = std::string(64, 'x');
  EXPECT_FALSE(MakeNodeZone(s, n, "micro", "vm").ok());
  n.id = "";
  EXPECT_FALSE(MakeNodeZone(s, n, "micro", "vm").ok());
}

// go-micro v1-v3 style names ("go.micro.srv.greeter", ids "<name>-<uuid>") span several labels.
TEST(MdnsRecordsTest, DottedServiceNamesAndNodeIdsRoundTrip) {
  registry::Service s;
  s.name = "go.micro.srv.greeter";
  s.version = "1";
  registry::Node n;
  n.id = "go.micro.srv.greeter-9f6a8c45";
  n.address = "10.0.0.7:9090";
  auto zone = MakeNodeZone(s, n, "micro", "vm");
  ASSERT_TRUE(zone.ok()) << zone.error();
  EXPECT_EQ(zone->instance, "go.micro.srv.greeter-9f6a8c45.go.micro.srv.greeter.micro.");
  dns::Message m;
  m.flags = dns::kFlagResponse;
  m.answers = ZoneRecords(*zone, "micro", kRecordTtl);
  auto decoded = dns::Decode(*dns::Encode(m));
  ASSERT_TRUE(decoded.ok());
  auto entries = Entries(*decoded);
  ASSERT_EQ(entries.size(), 1u);
  auto svc = ToService(entries[0], "go.micro.srv.greeter", "micro");
  ASSERT_TRUE(svc.has_value());
  EXPECT_EQ(svc->nodes[0].id, "go.micro.srv.greeter-9f6a8c45");
  EXPECT_EQ(svc->nodes[0].address, "10.0.0.7:9090");
}

TEST(MdnsRecordsTest, GoodbyeHasTtlZero) {
  auto bytes = dns::Encode(CapturedAnnouncement(0));
  ASSERT_TRUE(bytes.ok());
  auto entries = Entries(*dns::Decode(*bytes));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].ttl, 0u);
}

}  // namespace
}  // namespace micro::mdns
