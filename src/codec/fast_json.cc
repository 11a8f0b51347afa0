#include "codec/fast_json.h"

#include <google/protobuf/descriptor.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <vector>

#include "util/json_text.h"

namespace micro::codec::internal {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

// --- which types qualify ------------------------------------------------------------------

bool FieldQualifies(const FD* f, std::unordered_map<const pb::Descriptor*, bool>& seen);

bool TypeQualifies(const pb::Descriptor* d, std::unordered_map<const pb::Descriptor*, bool>& seen) {
  if (auto it = seen.find(d); it != seen.end()) return it->second;
  seen[d] = true;  // optimistic for recursive types; corrected below
  bool ok = d->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3 &&
            d->oneof_decl_count() == 0 && d->extension_range_count() == 0 &&
            d->full_name().rfind("google.protobuf.", 0) != 0;
  int last_number = 0;
  for (int i = 0; ok && i < d->field_count(); ++i) {
    const FD* f = d->field(i);
    // Declaration order must be number order: protobuf's printer uses one or the other
    // depending on its options.
    ok = f->number() > last_number && FieldQualifies(f, seen);
    last_number = f->number();
  }
  seen[d] = ok;
  return ok;
}

bool FieldQualifies(const FD* f, std::unordered_map<const pb::Descriptor*, bool>& seen) {
  if (f->is_map() || f->is_extension()) return false;
  switch (f->type()) {
    case FD::TYPE_INT32:
    case FD::TYPE_INT64:
    case FD::TYPE_UINT32:
    case FD::TYPE_UINT64:
    case FD::TYPE_SINT32:
    case FD::TYPE_SINT64:
    case FD::TYPE_FIXED32:
    case FD::TYPE_FIXED64:
    case FD::TYPE_SFIXED32:
    case FD::TYPE_SFIXED64:
    case FD::TYPE_BOOL:
    case FD::TYPE_STRING:
    case FD::TYPE_BYTES:
      return true;
    case FD::TYPE_MESSAGE:
      return TypeQualifies(f->message_type(), seen);
    default:
      return false;  // float, double, enum, group
  }
}

bool Qualifies(const pb::Descriptor* d) {
  // Generated types live as long as the process: cache them. Dynamic ones (from descriptors a
  // caller built) may die and be replaced at the same address: work those out every time.
  if (d->file()->pool() != pb::DescriptorPool::generated_pool()) {
    std::unordered_map<const pb::Descriptor*, bool> seen;
    return TypeQualifies(d, seen);
  }
  thread_local std::unordered_map<const pb::Descriptor*, bool> cache;
  if (auto it = cache.find(d); it != cache.end()) return it->second;
  std::unordered_map<const pb::Descriptor*, bool> seen;
  const bool ok = TypeQualifies(d, seen);
  cache[d] = ok;
  return ok;
}

// --- writing -------------------------------------------------------------------------------

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kHex[] = "0123456789abcdef";

// Two base64 digits for every 12-bit value: half the lookups of one digit at a time.
struct Base64PairTable {
  char pair[4096][2];
  constexpr Base64PairTable() : pair() {
    for (int i = 0; i < 4096; ++i) {
      pair[i][0] = kBase64[i >> 6];
      pair[i][1] = kBase64[i & 63];
    }
  }
};
constexpr Base64PairTable kBase64Pairs;

void AppendBase64(std::string& out, std::string_view data) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((data.size() + 2) / 3));
  char* p = out.data() + at;
  const auto* s = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (uint32_t{s[i + 1]} << 8) | s[i + 2];
    std::memcpy(p, kBase64Pairs.pair[v >> 12], 2);
    std::memcpy(p + 2, kBase64Pairs.pair[v & 0xFFF], 2);
    p += 4;
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    const uint32_t v = (uint32_t{s[i]} << 16) | (rest == 2 ? uint32_t{s[i + 1]} << 8 : 0);
    *p++ = kBase64[v >> 18];
    *p++ = kBase64[(v >> 12) & 63];
    *p++ = rest == 2 ? kBase64[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
}

// Protobuf's JSON escaping for ASCII. False for any byte >= 0x80: protobuf also escapes a list
// of invisible Unicode code points, which this path leaves to it.
bool AppendString(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) return false;
    const bool plain = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != 0x7f;
    if (plain) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (!util::AppendShortJsonEscape(out, static_cast<char>(c))) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
  return true;
}

template <typename T>
void AppendNumber(std::string& out, T v, bool quoted) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  if (quoted) out += '"';
  out.append(buf, end);
  if (quoted) out += '"';
}

bool AppendMessage(std::string& out, const pb::Message& msg, bool original_names);

// One value of field f (element i when repeated, else i < 0).
bool AppendValue(std::string& out, const pb::Message& msg, const FD* f, int i,
                 bool original_names) {
  const pb::Reflection* r = msg.GetReflection();
  const bool rep = i >= 0;
  switch (f->cpp_type()) {
    case FD::CPPTYPE_INT32:
      AppendNumber(out, rep ? r->GetRepeatedInt32(msg, f, i) : r->GetInt32(msg, f), false);
      return true;
    case FD::CPPTYPE_UINT32:
      AppendNumber(out, rep ? r->GetRepeatedUInt32(msg, f, i) : r->GetUInt32(msg, f), false);
      return true;
    case FD::CPPTYPE_INT64:  // 64-bit integers are strings in protobuf's JSON
      AppendNumber(out, rep ? r->GetRepeatedInt64(msg, f, i) : r->GetInt64(msg, f), true);
      return true;
    case FD::CPPTYPE_UINT64:
      AppendNumber(out, rep ? r->GetRepeatedUInt64(msg, f, i) : r->GetUInt64(msg, f), true);
      return true;
    case FD::CPPTYPE_BOOL:
      out += (rep ? r->GetRepeatedBool(msg, f, i) : r->GetBool(msg, f)) ? "true" : "false";
      return true;
    case FD::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(msg, f, i, &scratch)
                                 : r->GetStringReference(msg, f, &scratch);
      if (f->type() == FD::TYPE_BYTES) {
        out += '"';
        AppendBase64(out, s);
        out += '"';
        return true;
      }
      return AppendString(out, s);
    }
    case FD::CPPTYPE_MESSAGE:
      return AppendMessage(out, rep ? r->GetRepeatedMessage(msg, f, i) : r->GetMessage(msg, f),
                           original_names);
    default:
      return false;
  }
}

// proto3 without presence: a singular scalar is written when it is not its default.
bool IsSet(const pb::Message& msg, const FD* f) {
  const pb::Reflection* r = msg.GetReflection();
  if (f->is_repeated()) return r->FieldSize(msg, f) > 0;
  return r->HasField(msg, f);
}

bool AppendMessage(std::string& out, const pb::Message& msg, bool original_names) {
  const pb::Descriptor* d = msg.GetDescriptor();
  out += '{';
  bool first = true;
  for (int k = 0; k < d->field_count(); ++k) {
    const FD* f = d->field(k);
    if (!IsSet(msg, f)) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += original_names ? f->name() : f->json_name();
    out += "\":";
    if (!f->is_repeated()) {
      if (!AppendValue(out, msg, f, -1, original_names)) return false;
      continue;
    }
    out += '[';
    const int n = msg.GetReflection()->FieldSize(msg, f);
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      if (!AppendValue(out, msg, f, i, original_names)) return false;
    }
    out += ']';
  }
  out += '}';
  return true;
}

// --- reading -------------------------------------------------------------------------------

constexpr int kMaxDepth = kMaxJsonDepth;

// Base64 digit values, -1 for anything else.
struct Base64Table {
  int8_t value[256];
  constexpr Base64Table() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 64; ++i)
      value[static_cast<unsigned char>(kBase64[i])] = static_cast<int8_t>(i);
  }
};
constexpr Base64Table kBase64Values;

int Base64Value(unsigned char c) { return kBase64Values.value[c]; }

// Bytes that end a plain run inside a JSON string: the quote, the backslash, control characters.
struct StopTable {
  bool stop[256];
  constexpr StopTable() : stop() {
    for (int i = 0; i < 0x20; ++i) stop[i] = true;
    stop[static_cast<unsigned char>('"')] = true;
    stop[static_cast<unsigned char>('\\')] = true;
  }
};
constexpr StopTable kStringStops;

// Padded standard base64 with zero trailing bits; anything else is left to protobuf (which
// also takes the URL-safe alphabet and missing padding).
bool DecodeBase64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(text.size() / 4 * 3);
  char* p = out.data();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t full = text.size() - (pad ? 4 : 0);
  int bad = 0;  // any invalid digit makes this negative; checked once, after the loop
  for (std::size_t i = 0; i < full; i += 4) {
    const int a = Base64Value(s[i]), b = Base64Value(s[i + 1]), c = Base64Value(s[i + 2]),
              d = Base64Value(s[i + 3]);
    bad |= a | b | c | d;
    const uint32_t v = (uint32_t(a & 63) << 18) | (uint32_t(b & 63) << 12) |
                       (uint32_t(c & 63) << 6) | uint32_t(d & 63);
    p[0] = static_cast<char>(v >> 16);
    p[1] = static_cast<char>(v >> 8);
    p[2] = static_cast<char>(v);
    p += 3;
  }
  if (bad < 0) return false;
  if (pad) {
    const std::size_t i = full;
    const int a = Base64Value(s[i]), b = Base64Value(s[i + 1]);
    const int c = pad == 1 ? Base64Value(s[i + 2]) : 0;
    if ((a | b | c) < 0) return false;
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6);
    if ((pad == 2 && (v & 0xFFFF)) || (pad == 1 && (v & 0xFF))) return false;
    *p++ = static_cast<char>(v >> 16);
    if (pad == 1) *p++ = static_cast<char>(v >> 8);
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
  return true;
}

bool ValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c < 0xE0) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c < 0xF0) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c < 0xF5) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The field a JSON key names: its JSON name or its .proto name (protobuf 3.21 has no lookup by
// JSON name; messages are small, so a scan is as fast as a hash here).
const FD* FieldNamed(const pb::Descriptor* d, std::string_view key) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* f = d->field(i);
    if (f->json_name() == key || f->name() == key) return f;
  }
  return nullptr;
}

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  bool Document(pb::Message& msg) {
    SkipSpace();
    if (!Object(msg, 0)) return false;
    SkipSpace();
    return at_ == s_.size();
  }

 private:
  void SkipSpace() {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\n' || s_[at_] == '\r' || s_[at_] == '\t')) {
      ++at_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return at_ < s_.size() && s_[at_] == c;
  }

  // A JSON string into out (escapes decoded). Plain runs are copied in one piece.
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    out.clear();
    bool ascii = true;
    for (;;) {
      std::size_t run = at_;
      unsigned char high = 0;  // any byte >= 0x80 sets its top bit
      const auto* p = reinterpret_cast<const unsigned char*>(s_.data());
      while (run < s_.size() && !kStringStops.stop[p[run]]) high |= p[run++];
      ascii = ascii && high < 0x80;
      out.append(s_.data() + at_, run - at_);
      at_ = run;
      if (at_ >= s_.size() || static_cast<unsigned char>(s_[at_]) < 0x20) return false;
      if (s_[at_++] == '"') break;
      if (at_ >= s_.size()) return false;
      const char e = s_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xDC00 && cp < 0xE000) return false;  // a lone low surrogate
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (at_ + 2 > s_.size() || s_[at_] != '\\' || s_[at_ + 1] != 'u') return false;
            at_ += 2;
            if (!Hex4(low) || low < 0xDC00 || low >= 0xE000) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return ascii || ValidUtf8(out);
  }

  // The bytes between a quote and the next quote (escapes not decoded), as a view of the input.
  bool QuotedSpan(std::string_view& out) {
    SkipSpace();
    if (at_ >= s_.size() || s_[at_] != '"') return false;
    const std::size_t end = s_.find('"', at_ + 1);
    if (end == std::string_view::npos) return false;
    out = s_.substr(at_ + 1, end - at_ - 1);
    at_ = end + 1;
    return true;
  }

  bool Hex4(uint32_t& cp) {
    if (at_ + 4 > s_.size()) return false;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[at_++];
      int v = -1;
      if (c >= '0' && c <= '9') v = c - '0';
      if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
      if (v < 0) return false;
      cp = cp * 16 + static_cast<uint32_t>(v);
    }
    return true;
  }

  // An integer written as a JSON number or a string of digits: optional '-', no leading zeros,
  // no fraction or exponent (those are left to protobuf).
  template <typename T>
  bool Integer(T& value) {
    SkipSpace();
    const bool quoted = at_ < s_.size() && s_[at_] == '"';
    if (quoted) ++at_;
    std::size_t end = at_;
    if (end < s_.size() && s_[end] == '-') ++end;
    const std::size_t digits = end;
    while (end < s_.size() && s_[end] >= '0' && s_[end] <= '9') ++end;
    if (end == digits || (s_[digits] == '0' && end - digits > 1)) return false;
    if (s_[at_] == '-' && s_[digits] == '0') return false;  // "-0": left to protobuf
    const auto [ptr, ec] = std::from_chars(s_.data() + at_, s_.data() + end, value);
    if (ec != std::errc() || ptr != s_.data() + end) return false;  // out of range
    at_ = end;
    if (quoted) {
      if (at_ >= s_.size() || s_[at_] != '"') return false;
      ++at_;
    } else if (at_ < s_.size() && (s_[at_] == '.' || s_[at_] == 'e' || s_[at_] == 'E')) {
      return false;
    }
    return true;
  }

  bool Literal(std::string_view word) {
    SkipSpace();
    if (s_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  bool Value(pb::Message& msg, const FD* f, int depth) {
    const pb::Reflection* r = msg.GetReflection();
    const bool rep = f->is_repeated();
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: {
        int32_t v = 0;
        if (!Integer(v)) return false;
        rep ? r->AddInt32(&msg, f, v) : r->SetInt32(&msg, f, v);
        return true;
      }
      case FD::CPPTYPE_UINT32: {
        uint32_t v = 0;
        if (!Integer(v)) return false;
        rep ? r->AddUInt32(&msg, f, v) : r->SetUInt32(&msg, f, v);
        return true;
      }
      case FD::CPPTYPE_INT64: {
        int64_t v = 0;
        if (!Integer(v)) return false;
        rep ? r->AddInt64(&msg, f, v) : r->SetInt64(&msg, f, v);
        return true;
      }
      case FD::CPPTYPE_UINT64: {
        uint64_t v = 0;
        if (!Integer(v)) return false;
        rep ? r->AddUInt64(&msg, f, v) : r->SetUInt64(&msg, f, v);
        return true;
      }
      case FD::CPPTYPE_BOOL: {
        bool v = false;
        if (Literal("true")) {
          v = true;
        } else if (!Literal("false")) {
          return false;
        }
        rep ? r->AddBool(&msg, f, v) : r->SetBool(&msg, f, v);
        return true;
      }
      case FD::CPPTYPE_STRING: {
        std::string value;
        const std::size_t before = at_;
        if (f->type() != FD::TYPE_BYTES) {
          if (!String(text_)) return false;
          value.swap(text_);
        } else if (std::string_view raw; QuotedSpan(raw) && DecodeBase64(raw, value)) {
          // Straight from the input, no copy: a backslash or control character in the span
          // is not base64 either, so such a string goes the long way below.
        } else {
          at_ = before;
          if (!String(text_) || !DecodeBase64(text_, value)) return false;
        }
        rep ? r->AddString(&msg, f, std::move(value)) : r->SetString(&msg, f, std::move(value));
        return true;
      }
      case FD::CPPTYPE_MESSAGE:
        if (!Peek('{')) return false;  // null and the rest: protobuf's
        return Object(rep ? *r->AddMessage(&msg, f) : *r->MutableMessage(&msg, f), depth + 1);
      default:
        return false;
    }
  }

  bool Object(pb::Message& msg, int depth) {
    if (depth >= kMaxDepth || !Eat('{')) return false;
    const pb::Descriptor* d = msg.GetDescriptor();
    // Fields seen so far, to leave a repeated key to protobuf: a bit mask for the usual sizes.
    uint64_t seen_mask = 0;
    std::vector<bool> seen_many(d->field_count() > 64 ? static_cast<std::size_t>(d->field_count())
                                                      : 0);
    if (Eat('}')) return true;
    std::string key;
    do {
      if (!String(key) || !Eat(':')) return false;
      const FD* f = FieldNamed(d, key);
      if (!f) return false;  // unknown fields (ignored by protobuf) and odd names: protobuf's
      const auto index = static_cast<std::size_t>(f->index());
      if (seen_many.empty()) {
        const uint64_t bit = uint64_t{1} << index;
        if (seen_mask & bit) return false;  // the same field twice
        seen_mask |= bit;
      } else {
        if (seen_many[index]) return false;
        seen_many[index] = true;
      }
      if (!f->is_repeated()) {
        if (!Value(msg, f, depth)) return false;
        continue;
      }
      if (!Eat('[')) return false;
      if (Eat(']')) continue;
      do {
        if (!Value(msg, f, depth)) return false;
      } while (Eat(','));
      if (!Eat(']')) return false;
    } while (Eat(','));
    return Eat('}');
  }

  std::string_view s_;
  std::size_t at_ = 0;
  std::string text_;  // reused for string values
};

}  // namespace

bool FastAppendJson(const pb::Message& msg, const JsonOptions& options, std::string& out) {
  if (options.emit_defaults || !Qualifies(msg.GetDescriptor())) return false;
  const std::size_t at = out.size();
  if (AppendMessage(out, msg, options.original_field_names)) return true;
  out.resize(at);
  return false;
}

bool FastReadJson(std::string_view json, pb::Message& msg) {
  if (!Qualifies(msg.GetDescriptor())) return false;
  return Reader(json).Document(msg);
}

}  // namespace micro::codec::internal
