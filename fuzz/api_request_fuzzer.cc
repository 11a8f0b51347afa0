// libFuzzer target: the gateway's request decoding (/rpc JSON and form bodies, qson queries,
// the rpc handler's merge, go.api.Request/Response and Event JSON) on arbitrary input. The
// first byte picks the content type and method; the rest is split into query and body at the
// first newline. Nothing may crash or throw; errors must be 400/500 micro errors.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/request_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kTypes[] = {"application/json", "application/x-www-form-urlencoded",
                                 "text/plain", ""};
  static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE"};
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto nl = rest.find('\n');
  micro::http::ServerRequest req;
  req.method = kMethods[(data[0] >> 2) & 3];
  req.raw_query = std::string(rest.substr(0, nl));
  req.body = nl == std::string_view::npos ? std::string() : std::string(rest.substr(nl + 1));
  req.path = "/x/y";
  req.target = req.path + "?" + req.raw_query;
  req.remote = "127.0.0.1:1";
  if (*kTypes[data[0] & 3]) req.header.Set("Content-Type", kTypes[data[0] & 3]);

  auto call = micro::api_detail::DecodeRpcCall(req);
  if (!call.ok() && call.error().code != 400) __builtin_trap();
  (void)micro::api_detail::RpcHandlerJson(req);
  (void)micro::api_detail::ApiRequestJson(req);
  auto reply = micro::api_detail::ApiResponseReply(req.body);
  if (!reply.ok() && reply.error().code != 500) __builtin_trap();
  (void)micro::api_detail::EventJson({"t", "n"}, req);
  return 0;
}
