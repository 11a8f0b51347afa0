#include "message_json.h"

#include <nlohmann/json.hpp>

namespace micro::nats_detail {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Go's base64.StdEncoding (padding required, no whitespace). False on bad input.
bool Unbase64(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0) return false;
  out.clear();
  out.reserve(in.size() / 4 * 3);
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[k] = value(c);
      if (v[k] < 0) return false;
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += char(n >> 16);
    if (pad < 2) out += char((n >> 8) & 0xff);
    if (pad < 1) out += char(n & 0xff);
  }
  return true;
}

bool KeyIs(std::string_view key, std::string_view want) { return EqualsIgnoreCase(key, want); }

}  // namespace

std::string EncodeMessage(const Message& message) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  for (const auto& [k, v] : message.header) header[k] = v;
  std::string out = "{\"Header\":";
  out += header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += ",\"Body\":\"";
  out += Base64(message.body);
  out += "\"}";
  return out;
}

Result<Message> DecodeMessage(std::string_view json, std::string_view error_id) {
  auto bad = [&](std::string_view why) {
    return errors::BadRequest(std::string(error_id), "bad message: {}", why);
  };
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Message m;
  for (const auto& [key, value] : j.items()) {
    if (KeyIs(key, "Header")) {
      if (value.is_null()) continue;
      if (!value.is_object()) return bad("Header is not an object");
      for (const auto& [hk, hv] : value.items()) {
        if (!hv.is_string()) return bad("a header value is not a string");
        m.header.Set(hk, hv.get<std::string>());
      }
    } else if (KeyIs(key, "Body")) {
      if (value.is_null()) continue;
      if (!value.is_string() || !Unbase64(value.get_ref<const std::string&>(), m.body)) {
        return bad("Body is not base64");
      }
    }
  }
  return m;
}

}  // namespace micro::nats_detail
