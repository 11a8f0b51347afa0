// `micro health SERVICE`: calls Debug.Health on every node of a service (go-micro's
// `micro health check`), as a table or JSON.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "debug.pb.h"
#include "micro/cli.h"
#include "micro/client.h"

namespace micro::cli {
namespace {

struct HealthArgs {
  std::string service;
  std::string address;  // one node, no registry lookup
  std::string timeout = "5s";
};

struct NodeHealth {
  std::string version, node, address, status;
  std::optional<Error> error;
  bool ok() const { return !error && status == "ok"; }
};

NodeHealth Check(Client& client, const std::string& service, const std::string& version,
                 const registry::Node& node, Duration timeout) {
  NodeHealth h{.version = version, .node = node.id, .address = node.address};
  Context ctx;
  CallOptions opts;
  opts.address = {node.address};
  opts.retries = 0;
  opts.request_timeout = timeout;
  opts.connection_timeout = timeout;
  debug::HealthRequest req;
  req.set_service(service);
  auto rsp = Call<debug::HealthResponse>(client, ctx, service, "Debug.Health", req, opts);
  if (rsp) {
    h.status = rsp->status();
  } else {
    h.error = rsp.error();
  }
  return h;
}

int RunHealth(Env& env, const HealthArgs& args) {
  auto timeout = ParseGoDuration(args.timeout);
  if (!timeout || *timeout <= Duration::zero()) {
    return env.Usage("--timeout: \"" + args.timeout + "\" is not a positive Go duration");
  }
  auto service = env.Connect();
  if (!service) return env.Usage(service.error().detail);
  auto client = (*service)->Client();

  std::vector<NodeHealth> results;
  if (!args.address.empty()) {
    results.push_back(
        Check(*client, args.service, "", {.id = args.address, .address = args.address}, *timeout));
  } else {
    auto found = (*service)->Registry()->GetService(args.service);
    if (!found || found->empty()) {
      if (!found && !registry::IsNotFound(found.error())) return env.Fail(found.error());
      Error e = registry::ErrNotFound();
      e.detail = "service " + args.service + ": not found";
      return env.Fail(e, kNotFound);
    }
    for (const auto& version : *found) {
      for (const auto& node : version.nodes) {
        results.push_back(Check(*client, args.service, version.version, node, *timeout));
      }
    }
  }

  bool all_ok = true;
  for (const auto& r : results) all_ok = all_ok && r.ok();
  if (env.output() == Output::kJson) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : results) {
      nlohmann::ordered_json j{{"service", args.service},
                               {"version", r.version},
                               {"node", r.node},
                               {"address", r.address}};
      if (r.error) {
        j["status"] = "error";
        j["error"] = nlohmann::ordered_json::parse(r.error->ToJson(), nullptr, false);
      } else {
        j["status"] = r.status;
      }
      list.push_back(std::move(j));
    }
    env.out() << list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return all_ok ? kOk : kFailed;
  }
  std::vector<std::vector<std::string>> rows{{"VERSION", "NODE", "ADDRESS", "STATUS"}};
  for (const auto& r : results) {
    rows.push_back({r.version.empty() ? "-" : r.version, r.node, r.address,
                    r.error ? r.error->ToJson() : r.status});
  }
  std::vector<size_t> width(4, 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  env.out() << "service  " << args.service << "\n\n";
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    env.out() << line << "\n";
  }
  return all_ok ? kOk : kFailed;
}

}  // namespace

void AddHealthCommand(Program& program) {
  program.Add("health", "Call Debug.Health on every node of a service", [](CLI::App& cmd) {
    auto args = std::make_shared<HealthArgs>();
    cmd.add_option("service", args->service, "the service name")->required();
    cmd.add_option("--address", args->address, "host:port of one node (skips the registry)");
    cmd.add_option("--timeout", args->timeout, "per node, a Go duration")->capture_default_str();
    return Action([args](Env& env) { return RunHealth(env, *args); });
  });
}

}  // namespace micro::cli
