// What an app or a mesh client can send the sidecar: a registration (POST /registry) and a
// mesh call to forward. Neither may crash, and what they accept must be safe to use: a service
// name of the allowed characters, an app address that is host:port, and an app request whose
// path is exactly "/<identifier>.<identifier>". The first byte picks the input kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "micro/transport.h"
#include "sidecar/inbound.h"
#include "sidecar/registration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace micro::sidecar_detail;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto r = ParseRegistration(text);
    if (r.ok()) {
      if (r->service.name.empty() || !r->service.nodes.empty()) std::abort();
      for (char c : r->service.name) {
        if (c == '/' || c == ' ' || static_cast<unsigned char>(c) < 0x20) std::abort();
      }
    } else if (r.error().code != 400) {
      std::abort();
    }
    (void)ParseHealthUrl(text);
    return 0;
  }
  // A mesh call: "endpoint\ncontent-type\nbody".
  const auto nl1 = text.find('\n');
  const auto nl2 = nl1 == std::string_view::npos ? nl1 : text.find('\n', nl1 + 1);
  micro::Message call;
  call.header.Set("Micro-Endpoint", std::string(text.substr(0, nl1)));
  if (nl1 != std::string_view::npos) {
    call.header.Set("Content-Type", std::string(text.substr(nl1 + 1, nl2 - nl1 - 1)));
  }
  if (nl2 != std::string_view::npos) call.body = std::string(text.substr(nl2 + 1));
  auto req = AppRequest(call);
  if (req.ok()) {
    const auto& t = req->target;
    const auto dot = t.find('.');
    if (t.size() < 4 || t[0] != '/' || dot == std::string::npos ||
        !IsIdentifier(std::string_view(t).substr(1, dot - 1)) ||
        !IsIdentifier(std::string_view(t).substr(dot + 1))) {
      std::abort();
    }
  }
  (void)AppReply(call, {.status = static_cast<int>(size % 600), .body = call.body}, "app");
  return 0;
}
