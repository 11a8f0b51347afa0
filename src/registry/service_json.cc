// go-micro's registry types as JSON: written as Go's json.Marshal does, read tolerantly.
#include "registry/service_json.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace micro::registry {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 64;

void AppendMap(std::string& out, const StringMap& map) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : map) {  // std::map is sorted bytewise, as Go sorts map keys
    if (!first) out += ',';
    first = false;
    util::AppendGoJsonString(out, k);
    out += ':';
    util::AppendGoJsonString(out, v);
  }
  out += '}';
}

void AppendKey(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

// Go matches object keys exactly first, then case-insensitively.
const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  if (auto it = obj.find(key); it != obj.end()) return &*it;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& k = it.key();
    if (k.size() != key.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(key[i]));
    }
    if (same) return &*it;
  }
  return nullptr;
}

struct Reader {
  std::string error;

  void Fail(std::string_view what) {
    if (error.empty()) error = std::string(what);
  }

  void String(const Json& obj, std::string_view key, std::string& out) {
    const Json* v = Member(obj, key);
    if (!v || v->is_null()) return;
    if (!v->is_string()) return Fail(fmt::format("{} is not a string", key));
    out = v->get_ref<const std::string&>();
  }

  void Map(const Json& obj, std::string_view key, StringMap& out) {
    const Json* v = Member(obj, key);
    if (!v || v->is_null()) return;
    if (!v->is_object()) return Fail(fmt::format("{} is not an object", key));
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (it->is_null()) {
        out[it.key()] = "";
      } else if (!it->is_string()) {
        return Fail(fmt::format("{} values must be strings", key));
      } else {
        out[it.key()] = it->get_ref<const std::string&>();
      }
    }
  }

  template <class T, class F>
  void List(const Json& obj, std::string_view key, std::vector<T>& out, F&& read_one) {
    const Json* v = Member(obj, key);
    if (!v || v->is_null()) return;
    if (!v->is_array()) return Fail(fmt::format("{} is not a list", key));
    for (const Json& item : *v) {
      T t;
      if (!item.is_null()) read_one(item, t);  // Go leaves a null element as a nil pointer
      out.push_back(std::move(t));
    }
  }

  void ReadValue(const Json& j, Value& v) {
    if (!j.is_object()) return Fail("value is not an object");
    String(j, "name", v.name);
    String(j, "type", v.type);
    List(j, "values", v.values, [this](const Json& item, Value& out) { ReadValue(item, out); });
  }

  void ReadEndpoint(const Json& j, Endpoint& e) {
    if (!j.is_object()) return Fail("endpoint is not an object");
    String(j, "name", e.name);
    Map(j, "metadata", e.metadata);
    if (const Json* r = Member(j, "request"); r && !r->is_null())
      ReadValue(*r, e.request.emplace());
    if (const Json* r = Member(j, "response"); r && !r->is_null()) {
      ReadValue(*r, e.response.emplace());
    }
  }

  void ReadNode(const Json& j, Node& n) {
    if (!j.is_object()) return Fail("node is not an object");
    String(j, "id", n.id);
    String(j, "address", n.address);
    Map(j, "metadata", n.metadata);
  }

  void ReadEndpoints(const Json& j, std::string_view key, std::vector<Endpoint>& out) {
    List(j, key, out, [this](const Json& item, Endpoint& e) { ReadEndpoint(item, e); });
  }

  void ReadService(const Json& j, Service& s) {
    if (!j.is_object()) return Fail("service is not an object");
    String(j, "name", s.name);
    String(j, "version", s.version);
    Map(j, "metadata", s.metadata);
    ReadEndpoints(j, "endpoints", s.endpoints);
    List(j, "nodes", s.nodes, [this](const Json& item, Node& n) { ReadNode(item, n); });
  }
};

Error BadJson(std::string_view what) {
  return errors::BadRequest(error_ids::kRegistry, "invalid registry JSON: {}", what);
}

template <class T, class F>
Result<T> Parse(std::string_view text, F&& read) {
  if (util::JsonNestingDepth(text, kMaxDepth + 1) > kMaxDepth) return BadJson("nested too deeply");
  try {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return BadJson("not JSON");
    Reader reader;
    T out;
    read(reader, j, out);
    if (!reader.error.empty()) return BadJson(reader.error);
    return out;
  } catch (const std::exception& e) {
    return BadJson(e.what());
  }
}

}  // namespace

void AppendJson(std::string& out, const Value& v) {
  out += '{';
  AppendKey(out, "name");
  util::AppendGoJsonString(out, v.name);
  out += ',';
  AppendKey(out, "type");
  util::AppendGoJsonString(out, v.type);
  out += ',';
  AppendKey(out, "values");
  if (v.values.empty()) {
    out += "null";
  } else {
    out += '[';
    for (size_t i = 0; i < v.values.size(); ++i) {
      if (i) out += ',';
      AppendJson(out, v.values[i]);
    }
    out += ']';
  }
  out += '}';
}

void AppendJson(std::string& out, const Endpoint& e) {
  out += '{';
  AppendKey(out, "request");
  if (e.request)
    AppendJson(out, *e.request);
  else
    out += "null";
  out += ',';
  AppendKey(out, "response");
  if (e.response)
    AppendJson(out, *e.response);
  else
    out += "null";
  out += ',';
  AppendKey(out, "metadata");
  AppendMap(out, e.metadata);
  out += ',';
  AppendKey(out, "name");
  util::AppendGoJsonString(out, e.name);
  out += '}';
}

void AppendJson(std::string& out, const Node& n) {
  out += '{';
  AppendKey(out, "metadata");
  AppendMap(out, n.metadata);
  out += ',';
  AppendKey(out, "id");
  util::AppendGoJsonString(out, n.id);
  out += ',';
  AppendKey(out, "address");
  util::AppendGoJsonString(out, n.address);
  out += '}';
}

void AppendJson(std::string& out, const std::vector<Endpoint>& endpoints) {
  if (endpoints.empty()) {
    out += "null";
    return;
  }
  out += '[';
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (i) out += ',';
    AppendJson(out, endpoints[i]);
  }
  out += ']';
}

void AppendJson(std::string& out, const Service& s) {
  out += '{';
  AppendKey(out, "name");
  util::AppendGoJsonString(out, s.name);
  out += ',';
  AppendKey(out, "version");
  util::AppendGoJsonString(out, s.version);
  out += ',';
  AppendKey(out, "metadata");
  AppendMap(out, s.metadata);
  out += ',';
  AppendKey(out, "endpoints");
  AppendJson(out, s.endpoints);
  out += ',';
  AppendKey(out, "nodes");
  if (s.nodes.empty()) {
    out += "null";
  } else {
    out += '[';
    for (size_t i = 0; i < s.nodes.size(); ++i) {
      if (i) out += ',';
      AppendJson(out, s.nodes[i]);
    }
    out += ']';
  }
  out += '}';
}

std::string MdnsTxtJson(const MdnsTxt& txt) {
  std::string out = "{";
  AppendKey(out, "Metadata");
  AppendMap(out, txt.metadata);
  out += ',';
  AppendKey(out, "Service");
  util::AppendGoJsonString(out, txt.service);
  out += ',';
  AppendKey(out, "Version");
  util::AppendGoJsonString(out, txt.version);
  out += ',';
  AppendKey(out, "Endpoints");
  AppendJson(out, txt.endpoints);
  out += '}';
  return out;
}

Result<MdnsTxt> MdnsTxtFromJson(std::string_view json) {
  return Parse<MdnsTxt>(json, [](Reader& r, const Json& j, MdnsTxt& t) {
    if (!j.is_object()) return r.Fail("TXT JSON is not an object");
    r.String(j, "Service", t.service);
    r.String(j, "Version", t.version);
    r.Map(j, "Metadata", t.metadata);
    r.ReadEndpoints(j, "Endpoints", t.endpoints);
  });
}

std::string ToJson(const Service& s) {
  std::string out;
  AppendJson(out, s);
  return out;
}
std::string ToJson(const Node& n) {
  std::string out;
  AppendJson(out, n);
  return out;
}
std::string ToJson(const Endpoint& e) {
  std::string out;
  AppendJson(out, e);
  return out;
}
std::string ToJson(const Value& v) {
  std::string out;
  AppendJson(out, v);
  return out;
}

Result<Service> ServiceFromJson(std::string_view json) {
  return Parse<Service>(json, [](Reader& r, const Json& j, Service& s) { r.ReadService(j, s); });
}

Result<Node> NodeFromJson(std::string_view json) {
  return Parse<Node>(json, [](Reader& r, const Json& j, Node& n) { r.ReadNode(j, n); });
}

}  // namespace micro::registry
