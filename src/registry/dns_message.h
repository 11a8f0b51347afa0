// A small DNS message codec (RFC 1035 wire format with RFC 6762 mDNS bits), enough for mDNS
// service discovery: A, AAAA, PTR, SRV and TXT records decoded, anything else kept raw.
//
// Decode never throws and never reads out of bounds: malformed input (truncation, bad
// compression pointers, pointer loops, over-long names, too many records) is an Error.
// Encode writes names uncompressed (every decoder accepts that).
// Threading: plain values and pure functions.
#pragma once

#include <micro/status.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace micro::dns {

enum Type : uint16_t {
  kTypeA = 1,
  kTypePtr = 12,
  kTypeTxt = 16,
  kTypeAaaa = 28,
  kTypeSrv = 33,
  kTypeAny = 255,
};
inline constexpr uint16_t kClassIn = 1;
inline constexpr uint16_t kFlagResponse = 0x8000;
inline constexpr uint16_t kFlagAuthoritative = 0x0400;

struct Question {
  std::string name{};  // dotted, with the trailing dot: "greeter.micro."
  uint16_t type = kTypePtr;
  uint16_t klass = kClassIn;      // without the unicast-response bit
  bool unicast_response = false;  // mDNS "QU" bit (top bit of the class)
  friend bool operator==(const Question&, const Question&) = default;
};

struct Record {
  std::string name{};
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;  // without the cache-flush bit
  bool cache_flush = false;
  uint32_t ttl = 0;
  // Decoded rdata, by type:
  std::string target{};                         // PTR: the pointed-to name; SRV: the target host
  uint16_t priority = 0, weight = 0, port = 0;  // SRV
  std::vector<std::string> txt{};               // TXT: the character-strings (may be none)
  std::array<uint8_t, 16> address{};            // A: first 4 bytes; AAAA: all 16
  std::string raw{};                            // any other type: the rdata bytes
  friend bool operator==(const Record&, const Record&) = default;
};

struct Message {
  uint16_t id = 0;
  uint16_t flags = 0;
  std::vector<Question> questions{};
  std::vector<Record> answers{};
  std::vector<Record> authorities{};
  std::vector<Record> additionals{};
  bool IsResponse() const { return (flags & kFlagResponse) != 0; }
  friend bool operator==(const Message&, const Message&) = default;
};

Result<Message> Decode(std::span<const uint8_t> packet);
inline Result<Message> Decode(std::string_view packet) {
  return Decode(std::span(reinterpret_cast<const uint8_t*>(packet.data()), packet.size()));
}

// Fails (400) when a name has an empty or over-long (>63) label, or a TXT string is over 255
// bytes, or a record's rdata exceeds 65535 bytes.
Result<std::string> Encode(const Message& message);

// Whether `name` can be encoded: non-empty labels of at most 63 bytes, at most 255 in all.
bool ValidName(std::string_view name);

// Case-insensitive comparison of DNS names (ASCII), ignoring one trailing dot on either side.
bool NameEquals(std::string_view a, std::string_view b);

}  // namespace micro::dns
