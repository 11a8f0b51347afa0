// Internal JSON helpers for registry types, shared by the registries that store JSON
// (mDNS TXT records here; etcd/consul/nats plugins use the public ToJson/ServiceFromJson).
#pragma once

#include <micro/registry.h>

#include <string>
#include <string_view>
#include <vector>

namespace micro::registry {

void AppendJson(std::string& out, const Value& v);
void AppendJson(std::string& out, const Endpoint& e);
void AppendJson(std::string& out, const Node& n);
void AppendJson(std::string& out, const Service& s);
void AppendJson(std::string& out, const std::vector<Endpoint>& endpoints);

// go-micro's mdnsTxt: what one mDNS node carries in its TXT record. Go marshals its fields in
// declaration order (v4+): {"Metadata","Service","Version","Endpoints"}.
struct MdnsTxt {
  std::string service{};
  std::string version{};
  std::vector<Endpoint> endpoints{};
  StringMap metadata{};  // the node's metadata (service metadata is not carried)
  friend bool operator==(const MdnsTxt&, const MdnsTxt&) = default;
};

std::string MdnsTxtJson(const MdnsTxt& txt);
Result<MdnsTxt> MdnsTxtFromJson(std::string_view json);

}  // namespace micro::registry
