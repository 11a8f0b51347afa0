// What the dashboard shows of the registry, as pure functions (tested without sockets): an
// immutable view built from every service's versions, with the JSON the page reads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "micro/registry.h"

namespace micro::web_detail {

struct RegistryView {
  std::vector<registry::Service> services;  // one per name and version, sorted by both
  std::string error;                        // why the last read failed ("" when it did not)
  // {"services":[{"name","versions":[...],"nodes":n,"web":"/x"|""}],"error":"..."}
  std::string summary_json;
  // {"services":[<go-micro Service JSON>...]}
  std::string registry_json;
};
using ViewPtr = std::shared_ptr<const RegistryView>;

// Sorts the services and renders the JSON. ns: the web namespace ("go.micro.web").
ViewPtr MakeView(std::vector<registry::Service> services, std::string error, std::string_view ns);

// {"services":[...]} with the versions of one service, or "" when it has none.
std::string ServiceJson(const RegistryView& view, std::string_view name);

// The dashboard path of a web service: "go.micro.web.hello" -> "/hello" (ns "go.micro.web");
// "" when the name is not `<ns>.<x>` with x a proxy segment.
std::string WebPath(std::string_view name, std::string_view ns);

// go-micro web's rule for the first path segment: ^[a-zA-Z0-9]+([a-zA-Z0-9-]*[a-zA-Z0-9]*)?$
// (letters and digits, then letters, digits and '-').
bool IsProxySegment(std::string_view segment);

}  // namespace micro::web_detail
