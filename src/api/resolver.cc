// go-micro's path resolvers (micro, proxy, host, path, vpath, grpc) and the namespace rule.
#include <string>
#include <vector>

#include "api/request_codec.h"
#include "micro/api.h"
#include "micro/errors.h"

namespace micro::api {
namespace {

// strings.Split(path, "/") without the part before the leading '/' (empty parts are kept).
std::vector<std::string> SplitRawPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t i = !path.empty() && path[0] == '/' ? 1 : 0;
  while (i <= path.size() && !path.empty()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsProxyAlias(std::string_view s) {  // ^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') {
      if (s[i + 1] == '-') return false;
    } else if (!IsAlnum(s[i])) {
      return false;
    }
  }
  return true;
}

// "get-user" -> "GetUser", "fooBar" -> "FooBar".
std::string CamelWords(std::string_view part) {
  std::string out;
  bool upper = true;
  for (char c : part) {
    if (c == '-') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

std::string FirstSegment(std::string_view path) {
  auto parts = api_detail::CleanPathSegments(path);
  return parts.empty() ? std::string() : parts[0];
}

Error UnknownName() { return errors::InternalServerError(std::string(kErrorId), "unknown name"); }

}  // namespace

std::string WithNamespace(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string out(ns);
  if (ns.back() == '.') return out + std::string(name);
  if (ns.back() == '-') {
    out += name;
    for (char& c : out) {
      if (c == '.') c = '-';
    }
    return out;
  }
  return out + "." + std::string(name);
}

Route ResolveMicro(std::string_view path, std::string_view ns) {
  auto parts = api_detail::CleanPathSegments(path);
  if (parts.empty()) return {};
  std::string service, method;
  const std::size_t n = parts.size();
  if (n == 1) {
    service = parts[0];
    method = CamelWords(parts[0]) + ".Call";
  } else if (n == 2) {
    service = parts[0];
    method = CamelWords(parts[0]) + "." + CamelWords(parts[1]);
  } else if (n == 3 && api_detail::IsVersionSegment(parts[0])) {
    service = parts[0] + "." + parts[1];
    method = CamelWords(parts[1]) + "." + CamelWords(parts[2]);
  } else {
    for (std::size_t i = 0; i + 2 < n; ++i) {
      if (i) service += '.';
      service += parts[i];
    }
    method = CamelWords(parts[n - 2]) + "." + CamelWords(parts[n - 1]);
  }
  return {WithNamespace(ns, service), std::move(method)};
}

Route ResolveProxy(std::string_view path, std::string_view method, std::string_view ns) {
  auto parts = SplitRawPath(path);  // raw, as go-micro's proxyRoute splits it
  if (parts.empty() || (parts.size() == 1 && parts[0].empty())) return {"", std::string(method)};
  std::string service, alias;
  if (parts.size() > 1 && api_detail::IsVersionSegment(parts[0])) {
    service = parts[0] + "." + parts[1];
    alias = parts[1];
  } else {
    service = alias = parts[0];
  }
  if (!IsProxyAlias(alias)) return {"", std::string(method)};
  return {WithNamespace(ns, service), std::string(method)};
}

Result<Route> Resolve(std::string_view resolver, std::string_view path, std::string_view host,
                      std::string_view method, std::string_view ns) {
  if (resolver == "micro") return ResolveMicro(path, ns);
  std::string name;
  if (resolver == "host") {
    name = host;
  } else if (resolver == "path") {
    name = FirstSegment(path);
  } else if (resolver == "vpath") {
    auto parts = api_detail::CleanPathSegments(path);
    if (!parts.empty())
      name = parts.size() >= 2 && api_detail::IsVersionSegment(parts[0]) ? parts[1] : parts[0];
  } else if (resolver == "grpc") {
    name = FirstSegment(path);
    if (auto dot = name.rfind('.'); dot != std::string::npos) name.resize(dot);
  } else {
    return errors::BadRequest(std::string(kErrorId),
                              "unknown resolver \"{}\" (known: micro, host, path, vpath, grpc)",
                              resolver);
  }
  if (name.empty()) return UnknownName();
  return Route{WithNamespace(ns, name), std::string(method)};
}

std::optional<HandlerKind> ParseHandlerKind(std::string_view name) {
  if (name == "meta") return HandlerKind::kMeta;
  if (name == "rpc") return HandlerKind::kRpc;
  if (name == "api") return HandlerKind::kApi;
  if (name == "http" || name == "proxy") return HandlerKind::kHttp;
  if (name == "event") return HandlerKind::kEvent;
  if (name == "web") return HandlerKind::kWeb;
  return std::nullopt;
}

std::string_view HandlerName(HandlerKind kind) {
  switch (kind) {
    case HandlerKind::kMeta:
      return "meta";
    case HandlerKind::kRpc:
      return "rpc";
    case HandlerKind::kApi:
      return "api";
    case HandlerKind::kHttp:
      return "http";
    case HandlerKind::kEvent:
      return "event";
    case HandlerKind::kWeb:
      return "web";
  }
  return "meta";
}

}  // namespace micro::api
