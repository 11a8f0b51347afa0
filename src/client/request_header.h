// The header of one outgoing call (go-micro's request fields over the caller's metadata).
#pragma once

#include <string_view>

#include "micro/metadata.h"

namespace micro::client_detail {

// The fields a call sets itself. Views: they must outlive the BuildRequestHeader call.
struct CallFields {
  std::string_view content_type;  // Content-Type and Accept
  std::string_view id;            // Micro-Id
  std::string_view service;       // Micro-Service
  std::string_view endpoint;      // Micro-Method and Micro-Endpoint
  std::string_view timeout;       // Timeout: the handler's budget in nanoseconds
  bool conn_close = false;        // Connection: close
};

// Fills `out` (expected empty) with the caller's `context` metadata (without Micro-Topic), the
// call's own fields over it, and the codec's fields (gRPC's) over those, except the call's
// identity (Micro-Id, -Service, -Method, -Endpoint, and Connection when set). Builds in key
// order, so no field is inserted in the middle of the sorted header.
void BuildRequestHeader(Metadata& out, const Metadata& context, const CallFields& call,
                        const Metadata& codec_fields);

}  // namespace micro::client_detail
