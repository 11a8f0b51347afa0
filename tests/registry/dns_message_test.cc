#include "registry/dns_message.h"

#include <gtest/gtest.h>

namespace micro::dns {
namespace {

Message Sample() {
  Message m;
  m.id = 0x1234;
  m.flags = kFlagResponse | kFlagAuthoritative;
  m.questions.push_back({.name = "greeter.micro.", .type = kTypePtr, .unicast_response = true});
  Record ptr;
  ptr.name = "greeter.micro.";
  ptr.type = kTypePtr;
  ptr.ttl = 120;
  ptr.target = "n1.greeter.micro.";
  Record srv;
  srv.name = "n1.greeter.micro.";
  srv.type = kTypeSrv;
  srv.cache_flush = true;
  srv.ttl = 120;
  srv.priority = 10;
  srv.weight = 1;
  srv.port = 8080;
  srv.target = "vm.";
  Record txt;
  txt.name = "n1.greeter.micro.";
  txt.type = kTypeTxt;
  txt.txt = {"abc", std::string(255, 'f'), ""};
  Record a;
  a.name = "vm.";
  a.type = kTypeA;
  a.address = {127, 0, 0, 1};
  Record aaaa;
  aaaa.name = "vm.";
  aaaa.type = kTypeAaaa;
  aaaa.address = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  Record other;
  other.name = "vm.";
  other.type = 47;  // NSEC: kept raw
  other.raw = "\x01\x02";
  Record empty_txt;
  empty_txt.name = "x._services.micro.";
  empty_txt.type = kTypeTxt;
  m.answers = {ptr, srv, txt};
  m.authorities = {other};
  m.additionals = {a, aaaa, empty_txt};
  return m;
}

TEST(DnsMessageTest, RoundTripsEveryRecordKind) {
  auto bytes = Encode(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  auto back = Decode(*bytes);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, Sample());
  EXPECT_TRUE(back->IsResponse());
}

TEST(DnsMessageTest, FollowsCompressionPointers) {
  // Header, one question "a.micro." PTR, one answer named by a pointer to offset 12, whose
  // PTR target is "n" + pointer to offset 12.
  const uint8_t packet[] = {0,    0,   0x84, 0,   0,   1,   0,   1,   0, 0,   0,  0,     // header
                            1,    'a', 5,    'm', 'i', 'c', 'r', 'o', 0, 0,   12, 0, 1,  // question
                            0xC0, 12,  0,    12,  0,   1,   0,   0,   0, 120, 0,  4, 1, 'n',
                            0xC0, 12};
  auto m = Decode(std::span<const uint8_t>(packet, sizeof packet));
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(m->answers[0].name, "a.micro.");
  EXPECT_EQ(m->answers[0].target, "n.a.micro.");
  EXPECT_EQ(m->answers[0].ttl, 120u);
}

TEST(DnsMessageTest, RejectsPointerLoopsAndForwardPointers) {
  const uint8_t loop[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 12, 0, 1};
  EXPECT_FALSE(Decode(std::span<const uint8_t>(loop, sizeof loop)).ok());
  const uint8_t forward[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 0, 12, 0, 1};
  EXPECT_FALSE(Decode(std::span<const uint8_t>(forward, sizeof forward)).ok());
}

TEST(DnsMessageTest, EveryTruncationIsAnErrorNotACrash) {
  auto bytes = Encode(Sample());
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    auto m = Decode(std::string_view(*bytes).substr(0, n));
    EXPECT_FALSE(m.ok()) << n;
    if (!m.ok()) {
      EXPECT_EQ(m.error().code, 400);
    }
  }
}

TEST(DnsMessageTest, RejectsBadRdataLengths) {
  Message m;
  Record a;
  a.name = "x.";
  a.type = kTypeA;
  m.answers = {a};
  auto bytes = Encode(m);
  ASSERT_TRUE(bytes.ok());
  std::string bad = *bytes;
  bad[bad.size() - 5] = 5;  // rdlength 4 -> 5: runs past the end
  EXPECT_FALSE(Decode(bad).ok());
  bad = *bytes;
  bad[bad.size() - 5] = 3;  // an A record with 3 bytes
  bad.pop_back();
  EXPECT_FALSE(Decode(bad).ok());
}

TEST(DnsMessageTest, EncodeRejectsInvalidNames) {
  Message m;
  m.questions.push_back({.name = std::string(64, 'x') + ".micro."});
  EXPECT_FALSE(Encode(m).ok());
  m.questions[0].name = "a..micro.";
  EXPECT_FALSE(Encode(m).ok());
  Message t;
  Record txt;
  txt.name = "x.";
  txt.type = kTypeTxt;
  txt.txt = {std::string(256, 'a')};
  t.answers = {txt};
  EXPECT_FALSE(Encode(t).ok());
}

// Found by fuzz_dns_message: fmt 9's "{:?}" aborts on invalid UTF-8, so error texts that quote
// names from the network must not use it.
TEST(DnsMessageTest, ErrorsQuotingInvalidUtf8NamesDoNotCrash) {
  Message m;
  Record r;
  r.name = std::string("\xff\xfe..", 4);
  m.answers = {r};
  auto e = Encode(m);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, 400);
}

TEST(DnsMessageTest, NameEqualsIgnoresCaseAndTrailingDot) {
  EXPECT_TRUE(NameEquals("Greeter.MICRO.", "greeter.micro"));
  EXPECT_FALSE(NameEquals("greeter.micro.", "greeter.local."));
}

}  // namespace
}  // namespace micro::dns
