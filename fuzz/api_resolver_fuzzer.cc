// libFuzzer target: the gateway's path resolvers on arbitrary paths. Every resolver must
// answer (a route or an Error) without crashing, and the micro resolver's service must be made
// of the path's own segments.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/request_codec.h"
#include "micro/api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  auto route = micro::api::ResolveMicro(path, "go.micro.api");
  if (!route.service.empty() && route.service.rfind("go.micro.api.", 0) != 0) __builtin_trap();
  micro::api::ResolveProxy(path, "GET", "go.micro.api");
  for (const char* r : {"micro", "host", "path", "vpath", "grpc"}) {
    (void)micro::api::Resolve(r, path, path, "GET", "");
  }
  micro::api_detail::ResolveEvent(path, "go.micro.api");
  return 0;
}
