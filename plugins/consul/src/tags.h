// go-micro's Consul tags: what a node carries besides its address.
//   t-<hex(zlib(json({k:v})))>   one per node metadata key
//   e-<hex(zlib(json(Endpoint)))> one per endpoint
//   v-<hex(zlib(version))>        the version
// and, when reading, the legacy plain forms t=<json>, e=<json>, v=<version>. Per kind, the
// first form seen wins (tags of the other form are ignored), as go-micro's decoders.
// Pure functions; malformed tags are skipped, never an error.
#pragma once

#include <micro/registry.h>

#include <string>
#include <vector>

namespace micro::consul_detail {

std::vector<std::string> EncodeTags(const registry::StringMap& node_metadata,
                                    const std::vector<registry::Endpoint>& endpoints,
                                    const std::string& version);

struct DecodedTags {
  registry::StringMap metadata;
  std::vector<registry::Endpoint> endpoints;
  std::string version;
};
DecodedTags DecodeTags(const std::vector<std::string>& tags);

// Go's time.Duration.String() for whole milliseconds: "300ms", "5s", "1m5s", "1h0m0s".
std::string GoDuration(Duration d);

}  // namespace micro::consul_detail
