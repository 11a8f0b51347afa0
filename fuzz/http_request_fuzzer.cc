// libFuzzer target: go-micro HTTP requests through our llhttp-based parser, in arbitrary
// chunkings, with pipelining; every parsed request is written back out with our writer and
// must parse again to the same body (no header injection, no framing confusion).
// The first input byte picks the chunk size; the rest is the byte stream.
#include <cstddef>
#include <cstdint>
#include <string>

#include "transport/http_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  micro::http::FuzzStream(data, size, micro::http::HttpParser::Kind::kRequest);
  return 0;
}
