#include "tags.h"

#include <micro/plugin/compress.h>
#include <micro/registry.h>

#include <nlohmann/json.hpp>

namespace micro::consul_detail {
namespace {

constexpr std::size_t kMaxTagBytes = 64 * 1024;  // a decoded tag larger than this is skipped

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2) return false;
  out->clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]);
    const int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string Compressed(char kind, std::string_view payload) {
  return std::string(1, kind) + "-" + Hex(plugin::Deflate(payload));
}

// The payload of one tag of `kind` in `form` ('-' compressed, '=' plain), or nothing.
bool Payload(std::string_view tag, char form, std::string* out) {
  std::string_view body = tag.substr(2);
  if (form == '=') {
    *out = std::string(body);
    return true;
  }
  std::string raw;
  if (!Unhex(body, &raw)) return false;
  auto inflated = plugin::Inflate(raw, kMaxTagBytes);
  if (!inflated) return false;
  *out = std::move(*inflated);
  return true;
}

}  // namespace

std::vector<std::string> EncodeTags(const registry::StringMap& node_metadata,
                                    const std::vector<registry::Endpoint>& endpoints,
                                    const std::string& version) {
  std::vector<std::string> tags;
  for (const auto& [k, v] : node_metadata) {
    // Go's json.Marshal(map[string]string{k: v}).
    std::string json;
    registry::Node n{.metadata = {{k, v}}};
    const std::string node_json = registry::ToJson(n);  // {"metadata":{...},"id":"",...}
    const auto start = node_json.find('{', 1);
    const auto end = node_json.find("},\"id\"");
    json = node_json.substr(start, end - start + 1);
    tags.push_back(Compressed('t', json));
  }
  for (const auto& e : endpoints) tags.push_back(Compressed('e', registry::ToJson(e)));
  tags.push_back(Compressed('v', version));
  return tags;
}

DecodedTags DecodeTags(const std::vector<std::string>& tags) {
  DecodedTags out;
  char form_t = 0, form_e = 0, form_v = 0;
  for (const auto& tag : tags) {
    if (tag.size() < 2 || (tag[1] != '-' && tag[1] != '=')) continue;
    char* form = tag[0] == 't'   ? &form_t
                 : tag[0] == 'e' ? &form_e
                 : tag[0] == 'v' ? &form_v
                                 : nullptr;
    if (!form || (*form && *form != tag[1])) continue;
    std::string payload;
    if (!Payload(tag, tag[1], &payload)) continue;
    if (tag[0] == 'v') {
      *form = tag[1];
      out.version = std::move(payload);
    } else if (tag[0] == 't') {
      auto j = nlohmann::json::parse(payload, nullptr, false);
      if (!j.is_object()) continue;
      *form = tag[1];
      for (auto& [k, v] : j.items()) {
        if (v.is_string()) out.metadata[k] = v.get<std::string>();
      }
    } else {
      auto svc = registry::ServiceFromJson("{\"endpoints\":[" + payload + "]}");
      if (!svc || svc->endpoints.size() != 1) continue;
      *form = tag[1];
      out.endpoints.push_back(std::move(svc->endpoints[0]));
    }
  }
  return out;
}

std::string GoDuration(Duration d) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(d).count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  const auto h = ms / 3600000;
  const auto m = (ms / 60000) % 60;
  const auto s = (ms / 1000) % 60;
  const auto frac = ms % 1000;
  std::string sec = std::to_string(s);
  if (frac) {
    std::string f = std::to_string(frac);
    f = std::string(3 - f.size(), '0') + f;
    while (f.back() == '0') f.pop_back();
    sec += "." + f;
  }
  if (h) return std::to_string(h) + "h" + std::to_string(m) + "m" + sec + "s";
  if (m) return std::to_string(m) + "m" + sec + "s";
  return sec + "s";
}

}  // namespace micro::consul_detail
