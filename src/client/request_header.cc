#include "client/request_header.h"

#include <iterator>
#include <string>
#include <utility>

namespace micro::client_detail {

void BuildRequestHeader(Metadata& out, const Metadata& context, const CallFields& call,
                        const Metadata& codec_fields) {
  using Field = std::pair<std::string_view, std::string_view>;
  // Sorted case-insensitively, as Metadata keeps its keys: merged with the context's (sorted)
  // metadata, every field is appended at the end and nothing is shifted.
  const Field own[] = {{"Accept", call.content_type},
                       {"Connection", "close"},
                       {"Content-Type", call.content_type},
                       {"Micro-Endpoint", call.endpoint},
                       {"Micro-Id", call.id},
                       {"Micro-Method", call.endpoint},
                       {"Micro-Service", call.service},
                       {"Timeout", call.timeout}};
  const auto skip = [&](const Field& f) { return !call.conn_close && f.first == "Connection"; };
  const CaseInsensitiveLess less;
  out.reserve(context.size() + std::size(own) + codec_fields.size());
  const Field* o = std::begin(own);
  for (const auto& [k, v] : context) {
    if (EqualsIgnoreCase(k, "Micro-Topic")) continue;  // a publication's, never a call's
    for (; o != std::end(own) && less(o->first, k); ++o) {
      if (!skip(*o)) out.Set(o->first, std::string(o->second));
    }
    if (o != std::end(own) && EqualsIgnoreCase(o->first, k) && !skip(*o)) continue;  // ours wins
    out.Set(k, v);
  }
  for (; o != std::end(own); ++o) {
    if (!skip(*o)) out.Set(o->first, std::string(o->second));
  }
  // The codec's own fields (gRPC's) go over the context's and the content type, not over the
  // call's identity.
  for (const auto& [k, v] : codec_fields) {
    const bool identity = EqualsIgnoreCase(k, "Micro-Id") || EqualsIgnoreCase(k, "Micro-Service") ||
                          EqualsIgnoreCase(k, "Micro-Method") ||
                          EqualsIgnoreCase(k, "Micro-Endpoint") ||
                          (call.conn_close && EqualsIgnoreCase(k, "Connection"));
    if (!identity) out.Set(k, v);
  }
}

}  // namespace micro::client_detail
