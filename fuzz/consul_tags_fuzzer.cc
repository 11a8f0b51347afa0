// go-micro Consul tags from the network: the input, split at '\n', is a tag list. Decoding
// must never crash, and what we encode from the result must decode to the same version and
// endpoint count.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> tags;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      tags.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  auto decoded = consul_detail::DecodeTags(tags);
  auto again = consul_detail::DecodeTags(
      consul_detail::EncodeTags(decoded.metadata, decoded.endpoints, decoded.version));
  if (again.version != decoded.version || again.endpoints.size() != decoded.endpoints.size()) {
    std::abort();
  }
  return 0;
}
