// `micro api`: the API gateway (micro::api, include/micro/api.h) until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>

#include "cli/stop_signals.h"
#include "micro/api.h"
#include "micro/cli.h"

namespace micro::cli {
namespace {

struct ApiArgs {
  api::GatewayOptions options = api::OptionsFromEnv();
  std::string read_timeout;
};

int ServeApi(Env& env, const api::GatewayOptions& options) {
  sigset_t stop = detail::BlockStopSignals();
  auto service = env.Connect();
  if (!service) return env.Fail(service.error(), kUsage);
  auto gateway = api::Gateway::Start(options, api::PartsOf(**service));
  if (!gateway) return env.Fail(gateway.error(), gateway.error().code == 400 ? kUsage : kFailed);
  env.out() << "API gateway listening on " << (*gateway)->Addr() << std::endl;
  detail::WaitForStop(stop);
  (*gateway)->Close();
  return kOk;
}

}  // namespace

void AddApiCommand(Program& program) {
  program.Add("api", "Run the API gateway: HTTP in, RPC out (docs/toolkit.md)", [](CLI::App& cmd) {
    auto args = std::make_shared<ApiArgs>();
    auto& o = args->options;
    cmd.add_option("--address", o.address, "listen address; $MICRO_API_ADDRESS")
        ->capture_default_str();
    cmd.add_option("--handler", o.handler,
                   "meta, rpc, api, http (proxy), event or web; $MICRO_API_HANDLER")
        ->capture_default_str();
    cmd.add_option("--resolver", o.resolver,
                   "micro, host, path, vpath or grpc; $MICRO_API_RESOLVER")
        ->capture_default_str();
    cmd.add_option("--namespace", o.ns, "service name prefix (\"\" for plain names)")
        ->capture_default_str();
    cmd.add_option("--enable_rpc", o.enable_rpc, "serve POST /rpc")->capture_default_str();
    cmd.add_option("--enable_cors", o.enable_cors, "CORS headers and preflight")
        ->capture_default_str();
    cmd.add_option("--max_body", o.max_body_bytes, "largest request body in bytes (else 413)")
        ->capture_default_str();
    cmd.add_option("--read_timeout", args->read_timeout,
                   "a request must arrive whole within this (Go duration, default 30s)");
    return Action([args](Env& env) {
      if (!args->read_timeout.empty()) {
        auto d = ParseGoDuration(args->read_timeout);
        if (!d) return env.Usage("--read_timeout: " + d.error().detail);
        args->options.read_timeout = *d;
      }
      return ServeApi(env, args->options);
    });
  });
}

}  // namespace micro::cli
