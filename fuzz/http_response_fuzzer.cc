// libFuzzer target: HTTP responses as our client reads them (see http_request_fuzzer.cc).
#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/http_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  micro::http::FuzzStream(data, size, micro::http::HttpParser::Kind::kResponse);
  return 0;
}
