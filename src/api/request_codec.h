// The API gateway's translations between HTTP requests and RPC bodies, as pure functions (so
// they can be tested and fuzzed without sockets): /rpc requests, the rpc handler's JSON body
// (query via qson, merge-patched body), go.api.Request/Response and go.api.Event as JSON.
//
// Every decoder answers a micro Error (400 with the gateway's ids) for bad input, never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.h"
#include "micro/status.h"

namespace micro::api_detail {

// Go's path.Clean, then split on '/': "//a/./b/../c/" -> {"a", "c"}; "/" -> {}.
std::vector<std::string> CleanPathSegments(std::string_view path);
// ^v[0-9]+$
bool IsVersionSegment(std::string_view segment);

// Go's mime.ParseMediaType, loosely: the type before ';', trimmed and lower-cased.
std::string MediaType(std::string_view content_type);

// qson, as go-micro's rpc handler uses it: `a=1` -> {"a":1} (a value that is valid JSON is
// taken as JSON, else as a string), `a[b]=x` -> {"a":{"b":"x"}}, `a[]=1&a[]=2` -> {"a":[1,2]},
// `a.b=1` -> {"a":{"b":1}}, a repeated plain key: the last wins. Never fails: keys it cannot
// place (a clash between a value and an object) keep the last value. A key of more than 64
// levels is kept whole as one flat name (no JSON nests deeper than the parsers allow).
nlohmann::json QueryToJson(std::string_view raw_query);

// The X-Forwarded-For value to send on: the request's own, then ", ", then the client's IP.
std::string ForwardedFor(const http::ServerRequest& request);

// Compact JSON text; invalid UTF-8 in strings (from a query or form) becomes U+FFFD instead of
// an exception.
std::string DumpJson(const nlohmann::json& value);

// Parses JSON text, refusing what would exhaust a parser (nesting deeper than 256).
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view error_id);

// One /rpc request (micro's internal/handler/rpc.go).
struct RpcCall {
  std::string service;
  std::string endpoint;
  std::string address;  // empty: any node
  std::string request;  // JSON text for the service
};
// A JSON body (Content-Type application/json) or form/query fields; keys case-insensitive;
// `endpoint` wins over `method`; `request` is an object or a string holding JSON.
// 400 go.micro.rpc: undecodable body or request, "invalid service", "invalid endpoint".
Result<RpcCall> DecodeRpcCall(const http::ServerRequest& request);

// The rpc handler's JSON request body: the query (qson) with the body merge-patched over it for
// POST/PUT/PATCH/DELETE (a form body is read as a query too); a body that is not JSON is sent
// as it is. "{}" when there is nothing.
std::string RpcHandlerJson(const http::ServerRequest& request);

// go.api.Request as JSON (the api handler): method, path, header (with Host and
// X-Forwarded-For), get, post (form bodies), body (raw unless a form), url.
std::string ApiRequestJson(const http::ServerRequest& request);

// go.api.Response JSON -> the HTTP reply: statusCode (0 -> 200), every header value added,
// Content-Type application/json unless given, body verbatim. 500 go.micro.api if undecodable.
Result<http::ServerReply> ApiResponseReply(std::string_view json);

// The event handler's topic and event name for a path (go-micro api/handler/event).
struct EventRoute {
  std::string topic;
  std::string name;
};
EventRoute ResolveEvent(std::string_view path, std::string_view ns);
// go.api.Event as JSON: id `<topic>-<name>-<uuid>`, timestamp now (unix seconds), the request's
// headers, data = the query as {"k":["v"]} for GET, else the raw body.
std::string EventJson(const EventRoute& route, const http::ServerRequest& request);

}  // namespace micro::api_detail
