// micro-bench: a load generator for any micro-cpp / go-micro service endpoint.
//
//   micro-bench --address 127.0.0.1:9090 -c 64 -d 5s -s 64 --content_type proto
//   micro-bench --registry etcd --service echo --endpoint Echo.Call --rate 10000
//
// Calls go through micro::Client::AsyncCall (coroutines), so a few I/O threads (--threads,
// default 1) keep -c calls in flight. Every micro::Service flag works (--registry, --transport,
// --selector, ... and MICRO_* variables); with --address the selector is bypassed and the
// registry defaults to "memory". The request is echo.Request{payload: S bytes}, the answer is
// decoded as echo.Response (any endpoint taking and returning such messages works).
#include <micro/micro.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/load.h"
#include "echo.pb.h"

namespace {

std::string ContentType(const std::string& name) {
  if (name == "proto" || name == "protobuf") return "application/protobuf";
  if (name == "json") return "application/json";
  return name;  // a full content type
}

class MicroTarget final : public bench::Target {
 public:
  MicroTarget(std::shared_ptr<micro::Client> client, const bench::LoadOptions& load,
              std::string service, std::string endpoint, std::string content_type)
      : client_(std::move(client)), slots_(static_cast<std::size_t>(load.concurrency)) {
    if (!load.address.empty()) opts_.address = {load.address};
    opts_.content_type = content_type;
    const std::string payload(load.payload, 'x');
    for (auto& s : slots_) {
      s.msg.set_payload(payload);
      s.req = {service, endpoint, content_type, &s.msg};
    }
  }

  void Call(int slot) override {
    Slot& s = slots_[static_cast<std::size_t>(slot)];
    asio::co_spawn(client_->executor(), client_->AsyncCall(s.ctx, s.req, &s.rsp, opts_),
                   [this, slot](std::exception_ptr e, micro::Status st) {
                     if (e || !st) Complain(e ? "exception" : st.error().ToJson());
                     sink_->Done(slot, !e && st.ok());
                   });
  }

  bool Probe() override {
    micro::CallOptions probe = opts_;
    probe.retries = 0;
    probe.dial_timeout = std::chrono::milliseconds(100);
    probe.request_timeout = std::chrono::seconds(1);
    Slot& s = slots_[0];
    return client_->Call(s.ctx, s.req, &s.rsp, probe).ok();
  }

 private:
  struct Slot {
    micro::Context ctx;
    echo::Request msg;
    echo::Response rsp;
    micro::ClientRequest req;
  };

  void Complain(const std::string& what) {
    std::call_once(complained_,
                   [&] { std::fprintf(stderr, "micro-bench: call failed: %s\n", what.c_str()); });
  }

  std::shared_ptr<micro::Client> client_;
  micro::CallOptions opts_;
  std::vector<Slot> slots_;
  std::once_flag complained_;
};

}  // namespace

int main(int argc, char** argv) {
  bench::LoadOptions load;
  load.name = "micro";
  const std::string usage =
      "micro-bench [--address host:port | --service NAME] [--endpoint Handler.Method]\n"
      "            [--content_type proto|json|<content type>] [micro flags: --registry,\n"
      "            --transport, --selector, ... as every micro service; see --help of a\n"
      "            micro service]\n"
      "Defaults: --service echo --endpoint Echo.Call --content_type proto.";
  if (auto err = bench::ParseLoadOptions(argc, argv, usage, load); !err.empty()) {
    std::fprintf(stderr, "micro-bench: %s\n", err.c_str());
    return 2;
  }
  std::string service = "echo", endpoint = "Echo.Call", content_type = "proto";
  std::vector<std::string> micro_args;
  for (std::size_t i = 0; i < load.rest.size(); ++i) {
    const std::string& a = load.rest[i];
    auto value = [&](const std::string& flag, std::string& out) {
      if (a == flag && i + 1 < load.rest.size()) {
        out = load.rest[++i];
        return true;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        out = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (value("--service", service) || value("--endpoint", endpoint) ||
        value("--content_type", content_type) || value("--content-type", content_type)) {
      continue;
    }
    micro_args.push_back(a);
  }
  micro::ServiceOptions options{.name = "micro.bench"};
  options.registry = load.address.empty() ? "mdns" : "memory";
  options.threads = static_cast<std::size_t>(load.threads);
  micro::Service svc(std::move(options));
  auto status = svc.Init(micro_args, [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
  if (!status) return svc.Fail(status);
  MicroTarget target(svc.Client(), load, service, endpoint, ContentType(content_type));
  return bench::RunLoad(load, target);
}
