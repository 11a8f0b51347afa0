#include "web/registry_view.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/request_codec.h"
#include "micro/api.h"

namespace micro::web_detail {

bool IsProxySegment(std::string_view segment) {
  if (segment.empty() || segment.front() == '-') return false;
  return std::all_of(segment.begin(), segment.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string WebPath(std::string_view name, std::string_view ns) {
  std::string_view rest = name;
  if (!ns.empty()) {
    const std::string prefix = api::WithNamespace(ns, "");
    if (prefix.empty() || name.size() <= prefix.size() || name.rfind(prefix, 0) != 0) return "";
    rest = name.substr(prefix.size());
  }
  if (!IsProxySegment(rest)) return "";
  return "/" + std::string(rest);
}

ViewPtr MakeView(std::vector<registry::Service> services, std::string error, std::string_view ns) {
  std::sort(services.begin(), services.end(), [](const auto& a, const auto& b) {
    return a.name != b.name ? a.name < b.name : a.version < b.version;
  });
  auto view = std::make_shared<RegistryView>();
  view->error = std::move(error);

  nlohmann::json summary = nlohmann::json::array();
  std::string all = R"({"services":[)";
  for (std::size_t i = 0; i < services.size(); ++i) {
    const auto& s = services[i];
    if (i > 0) all += ",";
    all += registry::ToJson(s);
    if (summary.empty() || summary.back()["name"] != s.name) {
      summary.push_back({{"name", s.name},
                         {"versions", nlohmann::json::array()},
                         {"nodes", 0},
                         {"web", WebPath(s.name, ns)}});
    }
    auto& entry = summary.back();
    entry["versions"].push_back(s.version);
    entry["nodes"] = entry["nodes"].get<std::size_t>() + s.nodes.size();
  }
  all += "]}";
  view->registry_json = std::move(all);
  view->summary_json = api_detail::DumpJson(
      nlohmann::json{{"services", std::move(summary)}, {"error", view->error}});
  view->services = std::move(services);
  return view;
}

std::string ServiceJson(const RegistryView& view, std::string_view name) {
  std::string out;
  for (const auto& s : view.services) {
    if (s.name != name) continue;
    out += out.empty() ? R"({"services":[)" : ",";
    out += registry::ToJson(s);
  }
  if (!out.empty()) out += "]}";
  return out;
}

}  // namespace micro::web_detail
