#include "api/request_codec.h"

#include <chrono>
#include <map>
#include <vector>

#include "micro/api.h"
#include "micro/errors.h"
#include "micro/metadata.h"
#include "micro/util.h"
#include "util/json_text.h"

namespace micro::api_detail {
namespace {

using nlohmann::json;
constexpr int kMaxJsonDepth = 256;
// A query key nests at most this deep ("a.b.c" is 3); a longer one is kept whole as one flat
// name. Copying, merging and dumping JSON recurse once per level, so a key of thousands of
// dots would otherwise overflow the stack (found by fuzz_api_request).
constexpr std::size_t kMaxKeyDepth = 64;
constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A query value: JSON when it parses as JSON (numbers, true, null, quoted strings...), else
// the text itself.
json QueryValue(const std::string& text) {
  if (util::JsonNestingDepth(text, kMaxJsonDepth) < kMaxJsonDepth) {
    json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!v.is_discarded()) return v;
  }
  return text;
}

// "a[b][]" -> {"a", "b", ""}; "a.b" -> {"a", "b"}. Past kMaxKeyDepth segments it stops and
// returns the key whole, without splitting the rest.
std::vector<std::string> KeyPath(std::string_view key) {
  std::vector<std::string> path;
  std::size_t bracket = key.find('[');
  std::string_view head = key.substr(0, bracket);
  std::size_t i = 0;
  while (i <= head.size()) {
    if (path.size() == kMaxKeyDepth) return {std::string(key)};
    std::size_t dot = head.find('.', i);
    if (dot == std::string_view::npos) dot = head.size();
    path.emplace_back(head.substr(i, dot - i));
    i = dot + 1;
  }
  while (bracket != std::string_view::npos && bracket < key.size()) {
    std::size_t close = key.find(']', bracket);
    if (close == std::string_view::npos) break;
    if (path.size() == kMaxKeyDepth) return {std::string(key)};
    path.emplace_back(key.substr(bracket + 1, close - bracket - 1));
    bracket = key.find('[', close);
  }
  return path;
}

void Place(json& root, const std::vector<std::string>& path, json value) {
  json* at = &root;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const bool last = i + 1 == path.size();
    if (path[i].empty() && i > 0) {  // a[] : append
      if (!at->is_array()) *at = json::array();
      if (last) {
        at->push_back(std::move(value));
        return;
      }
      at->push_back(json::object());
      at = &at->back();
      continue;
    }
    if (!at->is_object()) *at = json::object();
    if (last) {
      (*at)[path[i]] = std::move(value);
      return;
    }
    at = &(*at)[path[i]];
  }
}

json PairsOf(const std::vector<std::pair<std::string, std::string>>& kvs) {
  std::map<std::string, std::vector<std::string>> grouped;
  std::vector<std::string> order;
  for (const auto& [k, v] : kvs) {
    auto [it, added] = grouped.try_emplace(k);
    if (added) order.push_back(k);
    it->second.push_back(v);
  }
  json out = json::object();
  for (const auto& k : order) out[k] = {{"key", k}, {"values", grouped[k]}};
  return out;
}

json HeaderPairs(const http::ServerRequest& request) {
  json out = json::object();
  auto put = [&](const std::string& key, std::string value) {
    out[key] = {{"key", key}, {"values", {std::move(value)}}};
  };
  for (const auto& [k, v] : request.header) put(CanonicalHeaderKey(k), v);
  if (MediaType(request.header.GetOr("Content-Type")).empty()) {
    put("Content-Type", "text/plain; charset=UTF-8");  // as Go rewrites a missing type
  }
  if (auto host = request.header.Get("Host")) put("Host", std::string(*host));
  put("X-Forwarded-For", ForwardedFor(request));
  return out;
}

bool IsFormBody(const http::ServerRequest& request) {
  return MediaType(request.header.GetOr("Content-Type")) == kFormType &&
         (request.method == "POST" || request.method == "PUT" || request.method == "PATCH");
}

Error RpcError(std::string detail) {
  return errors::BadRequest(std::string(api::kRpcErrorId), "{}", detail);
}

// /rpc's `request` field: an object as it is, a string holding JSON decoded again.
Result<std::string> RequestText(const json& value) {
  if (value.is_null()) return std::string("{}");
  if (!value.is_string()) return DumpJson(value);
  const auto& text = value.get_ref<const std::string&>();
  if (TrimSpace(text).empty()) return std::string("{}");
  auto parsed = ParseJson(text, api::kRpcErrorId);
  if (!parsed) return RpcError("error decoding request string: " + parsed.error().detail);
  return parsed->dump();
}

}  // namespace

std::vector<std::string> CleanPathSegments(std::string_view path) {
  std::vector<std::string> parts;
  parts.reserve(4);  // API paths are short: one allocation, no regrowth
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view segment = path.substr(i, j - i);
    if (segment == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!segment.empty() && segment != ".") {
      parts.emplace_back(segment);
    }
    i = j + 1;
  }
  return parts;
}

bool IsVersionSegment(std::string_view s) {
  return s.size() > 1 && s[0] == 'v' && s.find_first_not_of("0123456789", 1) == std::string::npos;
}

std::string ForwardedFor(const http::ServerRequest& request) {
  std::string ip = request.remote.substr(0, request.remote.rfind(':'));
  if (ip.size() > 1 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);  // [::1]
  std::string prior(request.header.GetOr("X-Forwarded-For"));
  return prior.empty() ? ip : prior + ", " + ip;
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string MediaType(std::string_view content_type) {
  return Lower(TrimSpace(content_type.substr(0, content_type.find(';'))));
}

Result<json> ParseJson(std::string_view text, std::string_view error_id) {
  if (util::JsonNestingDepth(text, kMaxJsonDepth) >= kMaxJsonDepth) {
    return errors::BadRequest(std::string(error_id), "JSON nested deeper than {}", kMaxJsonDepth);
  }
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return errors::BadRequest(std::string(error_id), "{}", e.what());
  }
}

json QueryToJson(std::string_view raw_query) {
  json root = json::object();
  if (raw_query.empty()) return root;
  for (const auto& [key, value] : http::ParseQuery(raw_query)) {
    if (key.empty()) continue;
    Place(root, KeyPath(key), QueryValue(value));
  }
  return root;
}

Result<RpcCall> DecodeRpcCall(const http::ServerRequest& request) {
  RpcCall call;
  if (MediaType(request.header.GetOr("Content-Type")) == "application/json") {
    auto body = ParseJson(request.body, api::kRpcErrorId);
    if (!body) return std::move(body).error();
    if (!body->is_object()) return RpcError("request body is not a JSON object");
    json req_value;
    std::string method;
    for (const auto& item : body->items()) {
      const std::string k = Lower(item.key());
      const json& value = item.value();  // (not a structured binding: clang 14 cannot capture one)
      auto text = [&value]() -> std::string {
        return value.is_string() ? value.get<std::string>() : "";
      };
      if (k == "service") call.service = text();
      if (k == "endpoint") call.endpoint = text();
      if (k == "method") method = text();
      if (k == "address") call.address = text();
      if (k == "request") req_value = value;
    }
    if (call.endpoint.empty()) call.endpoint = method;
    auto text = RequestText(req_value);
    if (!text) return std::move(text).error();
    call.request = std::move(*text);
  } else {
    // Form fields: the body's first (url-encoded), then the query's, as Go's r.Form.
    std::vector<std::pair<std::string, std::string>> fields;
    if (MediaType(request.header.GetOr("Content-Type")) == kFormType) {
      fields = http::ParseQuery(request.body);
    }
    for (auto& kv : http::ParseQuery(request.raw_query)) fields.push_back(std::move(kv));
    auto first = [&](std::string_view name) -> std::string {
      for (const auto& [k, v] : fields) {
        if (Lower(k) == name) return v;
      }
      return {};
    };
    call.service = first("service");
    call.endpoint = first("endpoint");
    if (call.endpoint.empty()) call.endpoint = first("method");
    call.address = first("address");
    auto text = RequestText(json(first("request")));
    if (!text) return std::move(text).error();
    call.request = std::move(*text);
  }
  if (call.service.empty()) return RpcError("invalid service");
  if (call.endpoint.empty()) return RpcError("invalid endpoint");
  return call;
}

std::string RpcHandlerJson(const http::ServerRequest& request) {
  const auto m = request.method;
  const bool with_body = m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
  const bool form = with_body && MediaType(request.header.GetOr("Content-Type")) == kFormType;
  // The common call: a JSON body and no query, passed on as sent without parsing it.
  if (with_body && !form && request.raw_query.empty() && !TrimSpace(request.body).empty()) {
    return request.body;
  }
  json fields = QueryToJson(request.raw_query);
  if (with_body) {
    if (form) {
      fields.merge_patch(QueryToJson(request.body));
    } else if (!TrimSpace(request.body).empty()) {
      // No query: the body as sent (numbers and order untouched; not JSON: the service decides).
      if (fields.empty()) return request.body;
      auto body = ParseJson(request.body, api::kErrorId);
      if (!body) return request.body;
      fields.merge_patch(*body);
    }
  }
  return DumpJson(fields);
}

std::string ApiRequestJson(const http::ServerRequest& request) {
  json out = json::object();
  out["method"] = std::string(request.method);
  out["path"] = request.path;
  out["header"] = HeaderPairs(request);
  out["get"] = PairsOf(http::ParseQuery(request.raw_query));
  const bool form = IsFormBody(request);
  out["post"] = form ? PairsOf(http::ParseQuery(request.body)) : json::object();
  out["body"] = form ? std::string() : request.body;
  out["url"] = request.target;
  return DumpJson(out);
}

Result<http::ServerReply> ApiResponseReply(std::string_view text) {
  auto bad = [](std::string detail) {
    return errors::InternalServerError(std::string(api::kErrorId), "bad api.Response: {}", detail);
  };
  auto parsed = ParseJson(text, api::kErrorId);
  if (!parsed) return bad(parsed.error().detail);
  if (!parsed->is_object()) return bad("not a JSON object");
  http::ServerReply reply;
  reply.status = 200;
  for (const auto& [key, value] : parsed->items()) {
    if (key == "statusCode" || key == "status_code") {
      long long code = 0;
      if (value.is_number_integer()) code = value.get<long long>();
      if (value.is_string()) code = std::atoll(value.get<std::string>().c_str());
      if (code < 0 || code > 999) return bad("statusCode out of range");
      if (code != 0) reply.status = static_cast<int>(code);
    } else if (key == "header" && value.is_object()) {
      for (const auto& [name, pair] : value.items()) {
        if (!pair.is_object()) continue;
        std::string pair_key = name;
        if (auto k = pair.find("key"); k != pair.end() && k->is_string()) {
          pair_key = k->get<std::string>();
        }
        if (auto vs = pair.find("values"); vs != pair.end() && vs->is_array()) {
          for (const auto& v : *vs) {
            if (v.is_string()) reply.header.emplace_back(pair_key, v.get<std::string>());
          }
        }
      }
    } else if (key == "body" && value.is_string()) {
      reply.body = value.get<std::string>();
    }
  }
  if (reply.Get("Content-Type").empty())
    reply.header.emplace_back("Content-Type", "application/json");
  return reply;
}

EventRoute ResolveEvent(std::string_view path, std::string_view ns) {
  const std::vector<std::string> parts = CleanPathSegments(path);
  if (parts.empty()) return {std::string(ns), "event"};
  std::string topic = api::WithNamespace(ns, parts[0]);
  if (parts.size() > 1 && IsVersionSegment(parts[0])) {
    // /v1/foo/bar -> ns.v1.foo; the name still starts at foo ("foo.bar"), as go-micro's does.
    topic = api::WithNamespace(ns, parts[0] + "." + parts[1]);
  }
  std::string name;
  for (std::size_t k = 1; k < parts.size(); ++k) {
    if (!name.empty()) name += '.';
    name += parts[k];
  }
  return {std::move(topic), std::move(name)};
}

std::string EventJson(const EventRoute& route, const http::ServerRequest& request) {
  json out = json::object();
  out["name"] = route.name;
  out["id"] = route.topic + "-" + route.name + "-" + NewUuid();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  out["timestamp"] = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  json header = json::object();
  for (const auto& [k, v] : request.header) {
    std::string key = CanonicalHeaderKey(k);
    header[key] = {{"key", key}, {"values", {v}}};
  }
  out["header"] = std::move(header);
  if (request.method == "GET") {
    json data = json::object();
    for (const auto& [k, v] : http::ParseQuery(request.raw_query)) data[k].push_back(v);
    out["data"] = DumpJson(data);
  } else {
    out["data"] = request.body;
  }
  return DumpJson(out);
}

}  // namespace micro::api_detail
