// Broker messages from the network (HTTP broker POST bodies, NATS payloads) and the request
// target's query: parsing must never crash, and what we write must parse back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/server.h"
#include "micro/broker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto m = broker::MessageFromJson(text); m.ok()) {
    auto back = broker::MessageFromJson(broker::ToJson(*m));
    if (!back.ok() || back->body != m->body || back->header.size() != m->header.size()) {
      std::abort();
    }
  }
  (void)http::QueryParam(text, "id");
  (void)http::ParseQuery(text);
  return 0;
}
