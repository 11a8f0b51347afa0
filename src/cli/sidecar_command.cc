// `micro sidecar`: the sidecar for apps in other languages (micro::sidecar,
// include/micro/sidecar.h) until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include "cli/stop_signals.h"
#include "micro/cli.h"
#include "micro/sidecar.h"

namespace micro::cli {
namespace {

struct SidecarArgs {
  sidecar::SidecarOptions options = sidecar::OptionsFromEnv();
  std::string health_interval;
  std::string app_timeout;
};

int ServeSidecar(Env& env, sidecar::SidecarOptions options) {
  sigset_t stop = detail::BlockStopSignals();
  auto service = env.Connect();
  if (!service) return env.Fail(service.error(), kUsage);
  // Mesh calls arrive where the plugin flags say the server listens (--server_address,
  // --server_advertise), with the service's registration TTL.
  const auto& so = (*service)->Options();
  if (so.address != ServiceOptions{}.address) options.inbound_address = so.address;
  options.advertise = so.advertise;
  options.register_ttl = so.register_ttl;
  auto car = sidecar::Sidecar::Start(options, sidecar::PartsOf(**service));
  if (!car) return env.Fail(car.error(), car.error().code == 400 ? kUsage : kFailed);
  env.out() << "Sidecar on http://" << (*car)->Addr() << ", mesh calls on " << (*car)->InboundAddr()
            << std::endl;
  detail::WaitForStop(stop);
  (*car)->Close();
  return kOk;
}

}  // namespace

void AddSidecarCommand(Program& program) {
  program.Add(
      "sidecar", "Run the sidecar: an app in any language joins the mesh (docs/sidecar.md)",
      [](CLI::App& cmd) {
        auto args = std::make_shared<SidecarArgs>();
        auto& o = args->options;
        cmd.add_option("--address", o.address, "HTTP API address; $MICRO_SIDECAR_ADDRESS")
            ->capture_default_str();
        cmd.add_option("--app_name", o.app_name,
                       "register the app under this name; $MICRO_SIDECAR_APP_NAME");
        cmd.add_option("--app_address", o.app_address,
                       "host:port of the app's HTTP server; $MICRO_SIDECAR_APP_ADDRESS");
        cmd.add_option("--app_version", o.app_version, "the version registered for --app_name")
            ->capture_default_str();
        cmd.add_option("--healthcheck_url", o.healthcheck_url,
                       "http://host:port/path of the app's health check; "
                       "$MICRO_SIDECAR_HEALTHCHECK_URL");
        cmd.add_option("--health_interval", args->health_interval,
                       "how often the app is checked and re-registered (Go duration, default 30s)");
        cmd.add_option("--app_timeout", args->app_timeout,
                       "longest wait for the app to answer a call (Go duration, default 30s)");
        cmd.add_option("--handler", o.handler, "rpc or proxy, for the other paths")
            ->capture_default_str();
        cmd.add_option("--namespace", o.ns, "service name prefix for the other paths")
            ->capture_default_str();
        return Action([args](Env& env) {
          for (auto [text, out, flag] :
               {std::tuple{&args->health_interval, &args->options.health_interval,
                           "--health_interval"},
                std::tuple{&args->app_timeout, &args->options.app_timeout, "--app_timeout"}}) {
            if (text->empty()) continue;
            auto d = ParseGoDuration(*text);
            if (!d) return env.Usage(std::string(flag) + ": " + d.error().detail);
            if (*d <= Duration::zero()) return env.Usage(std::string(flag) + " must be positive");
            *out = *d;
          }
          return ServeSidecar(env, args->options);
        });
      });
}

}  // namespace micro::cli
