// `micro web`: the web dashboard (micro::web, include/micro/web.h) until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include "cli/stop_signals.h"
#include "micro/cli.h"
#include "micro/web.h"

namespace micro::cli {
namespace {

struct WebArgs {
  web::DashboardOptions options = web::OptionsFromEnv();
  std::string poll_interval;
};

int ServeWeb(Env& env, const web::DashboardOptions& options) {
  sigset_t stop = detail::BlockStopSignals();
  auto service = env.Connect();
  if (!service) return env.Fail(service.error(), kUsage);
  auto dashboard = web::Dashboard::Start(options, web::PartsOf(**service));
  if (!dashboard) {
    return env.Fail(dashboard.error(), dashboard.error().code == 400 ? kUsage : kFailed);
  }
  env.out() << "Web dashboard on http://" << (*dashboard)->Addr() << std::endl;
  detail::WaitForStop(stop);
  (*dashboard)->Close();
  return kOk;
}

}  // namespace

void AddWebCommand(Program& program) {
  program.Add("web", "Run the web dashboard: services, endpoints, calls (docs/web.md)",
              [](CLI::App& cmd) {
                auto args = std::make_shared<WebArgs>();
                auto& o = args->options;
                cmd.add_option("--address", o.address, "listen address; $MICRO_WEB_ADDRESS")
                    ->capture_default_str();
                cmd.add_option("--namespace", o.ns,
                               "web services <namespace>.<name> are proxied at /<name>; "
                               "$MICRO_WEB_NAMESPACE")
                    ->capture_default_str();
                cmd.add_option("--poll_interval", args->poll_interval,
                               "read the registry this often besides its watch (Go duration, "
                               "default 5s)");
                return Action([args](Env& env) {
                  if (!args->poll_interval.empty()) {
                    auto d = ParseGoDuration(args->poll_interval);
                    if (!d) return env.Usage("--poll_interval: " + d.error().detail);
                    if (*d <= Duration::zero())
                      return env.Usage("--poll_interval must be positive");
                    args->options.poll_interval = *d;
                  }
                  return ServeWeb(env, args->options);
                });
              });
}

}  // namespace micro::cli
