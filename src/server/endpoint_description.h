// Endpoint descriptions for the registry, built from protobuf descriptors the way go-micro's
// reflection builds them from Go structs.
#pragma once

#include <google/protobuf/descriptor.h>

#include "micro/handler.h"
#include "micro/registry.h"

namespace micro::server_detail {

// {"name": "Request", "type": "Request", "values": [{"name": "name", "type": "string"}]}:
// field names are the .proto names (Go's json tags), types are Go's spelling of the generated
// field types ("string", "int64", "[]string", "map[string]int32", "[]uint8" for bytes, message
// and enum type names); nested messages are expanded down to `depth` levels, as go-micro's 3.
registry::Value DescribeMessage(const google::protobuf::Descriptor* message, int depth = 3);

registry::Endpoint DescribeEndpoint(const Endpoint& endpoint);

}  // namespace micro::server_detail
