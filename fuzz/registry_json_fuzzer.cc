// Registry JSON from the network (etcd values, mDNS TXT payloads): parsing must never crash,
// and what we write must parse again. The input is also fed to the TXT decoder, split into
// strings at '\n' as TXT character-strings would be.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "micro/plugin/compress.h"
#include "micro/registry.h"
#include "registry/mdns_records.h"
#include "registry/service_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto s = registry::ServiceFromJson(text); s.ok()) {
    if (!registry::ServiceFromJson(registry::ToJson(*s)).ok()) std::abort();
  }
  (void)registry::NodeFromJson(text);
  if (auto t = registry::MdnsTxtFromJson(text); t.ok()) {
    auto back = mdns::DecodeTxt(mdns::EncodeTxt(*t));
    if (!back.ok()) std::abort();
  }
  std::vector<std::string> strings;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      strings.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  (void)mdns::DecodeTxt(strings);
  (void)plugin::Inflate(text, 1 << 16);
  return 0;
}
