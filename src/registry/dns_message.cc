#include "registry/dns_message.h"

#include <cstring>

namespace micro::dns {
namespace {

constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxRecords = 512;  // per section; a UDP datagram cannot hold more anyway

Error Malformed(std::string_view what) {
  return errors::BadRequest(error_ids::kMdns, "malformed DNS message: {}", what);
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : d_(data) {}

  bool U8(uint8_t& v) {
    if (pos_ + 1 > d_.size()) return false;
    v = d_[pos_++];
    return true;
  }
  bool U16(uint16_t& v) {
    if (pos_ + 2 > d_.size()) return false;
    v = static_cast<uint16_t>(d_[pos_] << 8 | d_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t& v) {
    if (pos_ + 4 > d_.size()) return false;
    v = uint32_t(d_[pos_]) << 24 | uint32_t(d_[pos_ + 1]) << 16 | uint32_t(d_[pos_ + 2]) << 8 |
        uint32_t(d_[pos_ + 3]);
    pos_ += 4;
    return true;
  }

  // A possibly compressed name. Pointers must point strictly backwards, so they cannot loop.
  bool Name(std::string& out) {
    out.clear();
    size_t pos = pos_;
    size_t limit = pos_;  // a pointer must target an offset before this
    bool jumped = false;
    for (;;) {
      if (pos >= d_.size()) return false;
      const uint8_t len = d_[pos];
      if (len == 0) {
        ++pos;
        break;
      }
      if ((len & 0xC0) == 0xC0) {
        if (pos + 1 >= d_.size()) return false;
        const size_t target = size_t(len & 0x3F) << 8 | d_[pos + 1];
        if (target >= limit) return false;
        if (!jumped) pos_ = pos + 2;
        jumped = true;
        limit = target;
        pos = target;
        continue;
      }
      if (len & 0xC0) return false;  // reserved label types
      if (pos + 1 + len > d_.size()) return false;
      out.append(reinterpret_cast<const char*>(&d_[pos + 1]), len);
      out += '.';
      if (out.size() > kMaxNameLength) return false;
      pos += 1 + len;
    }
    if (!jumped) pos_ = pos;
    if (out.empty()) out = ".";
    return true;
  }

  bool Skip(size_t n) {
    if (pos_ + n > d_.size()) return false;
    pos_ += n;
    return true;
  }
  size_t pos() const { return pos_; }
  const uint8_t* at(size_t p) const { return d_.data() + p; }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

bool ReadRecord(Reader& r, Record& rec) {
  uint16_t klass = 0, rdlen = 0;
  if (!r.Name(rec.name) || !r.U16(rec.type) || !r.U16(klass) || !r.U32(rec.ttl) || !r.U16(rdlen)) {
    return false;
  }
  rec.klass = klass & 0x7FFF;
  rec.cache_flush = (klass & 0x8000) != 0;
  const size_t start = r.pos();
  const size_t end = start + rdlen;
  if (!r.Skip(rdlen)) return false;
  // Parse rdata with a reader over the whole message (names may point back into it), then
  // check it stayed inside the rdata.
  Reader rd(std::span<const uint8_t>(r.at(0), end));
  if (!rd.Skip(start)) return false;
  switch (rec.type) {
    case kTypeA:
      if (rdlen != 4) return false;
      std::memcpy(rec.address.data(), r.at(start), 4);
      return true;
    case kTypeAaaa:
      if (rdlen != 16) return false;
      std::memcpy(rec.address.data(), r.at(start), 16);
      return true;
    case kTypePtr:
      return rd.Name(rec.target) && rd.pos() == end;
    case kTypeSrv:
      return rd.U16(rec.priority) && rd.U16(rec.weight) && rd.U16(rec.port) &&
             rd.Name(rec.target) && rd.pos() == end;
    case kTypeTxt:
      while (rd.pos() < end) {
        uint8_t len = 0;
        if (!rd.U8(len)) return false;
        const size_t p = rd.pos();
        if (!rd.Skip(len)) return false;
        rec.txt.emplace_back(reinterpret_cast<const char*>(r.at(p)), len);
      }
      return true;
    default:
      rec.raw.assign(reinterpret_cast<const char*>(r.at(start)), rdlen);
      return true;
  }
}

void PutU16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xFF);
}
void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xFFFF));
}

bool PutName(std::string& out, std::string_view name) {
  if (name.empty() || name == ".") {
    out += '\0';
    return true;
  }
  if (name.back() == '.') name.remove_suffix(1);
  if (name.size() + 2 > kMaxNameLength) return false;
  while (true) {
    const size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    out += static_cast<char>(label.size());
    out += label;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out += '\0';
  return true;
}

bool PutRecord(std::string& out, const Record& rec) {
  if (!PutName(out, rec.name)) return false;
  PutU16(out, rec.type);
  PutU16(out, static_cast<uint16_t>(rec.klass | (rec.cache_flush ? 0x8000 : 0)));
  PutU32(out, rec.ttl);
  const size_t len_at = out.size();
  PutU16(out, 0);
  switch (rec.type) {
    case kTypeA:
      out.append(reinterpret_cast<const char*>(rec.address.data()), 4);
      break;
    case kTypeAaaa:
      out.append(reinterpret_cast<const char*>(rec.address.data()), 16);
      break;
    case kTypePtr:
      if (!PutName(out, rec.target)) return false;
      break;
    case kTypeSrv:
      PutU16(out, rec.priority);
      PutU16(out, rec.weight);
      PutU16(out, rec.port);
      if (!PutName(out, rec.target)) return false;
      break;
    case kTypeTxt:
      for (const std::string& s : rec.txt) {
        if (s.size() > 255) return false;
        out += static_cast<char>(s.size());
        out += s;
      }
      break;
    default:
      out += rec.raw;
  }
  const size_t rdlen = out.size() - len_at - 2;
  if (rdlen > 0xFFFF) return false;
  out[len_at] = static_cast<char>(rdlen >> 8);
  out[len_at + 1] = static_cast<char>(rdlen & 0xFF);
  return true;
}

}  // namespace

Result<Message> Decode(std::span<const uint8_t> packet) {
  Reader r(packet);
  Message m;
  uint16_t counts[4] = {};
  if (!r.U16(m.id) || !r.U16(m.flags)) return Malformed("short header");
  for (uint16_t& c : counts) {
    if (!r.U16(c)) return Malformed("short header");
  }
  if (counts[0] > kMaxRecords) return Malformed("too many questions");
  for (uint16_t i = 0; i < counts[0]; ++i) {
    Question q;
    uint16_t klass = 0;
    if (!r.Name(q.name) || !r.U16(q.type) || !r.U16(klass)) return Malformed("bad question");
    q.klass = klass & 0x7FFF;
    q.unicast_response = (klass & 0x8000) != 0;
    m.questions.push_back(std::move(q));
  }
  std::vector<Record>* sections[3] = {&m.answers, &m.authorities, &m.additionals};
  for (int s = 0; s < 3; ++s) {
    if (counts[s + 1] > kMaxRecords) return Malformed("too many records");
    for (uint16_t i = 0; i < counts[s + 1]; ++i) {
      Record rec;
      if (!ReadRecord(r, rec)) return Malformed("bad resource record");
      sections[s]->push_back(std::move(rec));
    }
  }
  return m;
}

Result<std::string> Encode(const Message& m) {
  std::string out;
  out.reserve(512);
  PutU16(out, m.id);
  PutU16(out, m.flags);
  PutU16(out, static_cast<uint16_t>(m.questions.size()));
  PutU16(out, static_cast<uint16_t>(m.answers.size()));
  PutU16(out, static_cast<uint16_t>(m.authorities.size()));
  PutU16(out, static_cast<uint16_t>(m.additionals.size()));
  for (const Question& q : m.questions) {
    if (!PutName(out, q.name))
      return errors::BadRequest(error_ids::kMdns, "bad DNS name \"{}\"", q.name);
    PutU16(out, q.type);
    PutU16(out, static_cast<uint16_t>(q.klass | (q.unicast_response ? 0x8000 : 0)));
  }
  for (const auto* section : {&m.answers, &m.authorities, &m.additionals}) {
    for (const Record& rec : *section) {
      if (!PutRecord(out, rec)) {
        return errors::BadRequest(error_ids::kMdns, "cannot encode DNS record \"{}\"", rec.name);
      }
    }
  }
  return out;
}

bool ValidName(std::string_view name) {
  std::string scratch;
  return PutName(scratch, name);
}

bool NameEquals(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace micro::dns
