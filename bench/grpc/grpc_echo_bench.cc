// Load generator for grpc-echo-server (same flags and output as micro-bench): the gRPC C++
// callback API on one channel (HTTP/2 multiplexes the calls in flight), a fresh ClientContext
// per call as gRPC requires.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/load.h"
#include "echo.grpc.pb.h"

namespace {

class GrpcTarget final : public bench::Target {
 public:
  GrpcTarget(const bench::LoadOptions& load)
      : address_(load.address), slots_(static_cast<std::size_t>(load.concurrency)) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stub_ = echo::Echo::NewStub(
        grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args));
    const std::string payload(load.payload, 'x');
    for (auto& s : slots_) s.req.set_payload(payload);
  }

  void Call(int slot) override {
    Slot& s = slots_[static_cast<std::size_t>(slot)];
    s.ctx = std::make_unique<grpc::ClientContext>();
    stub_->async()->Call(s.ctx.get(), &s.req, &s.rsp,
                         [this, slot](grpc::Status st) { sink_->Done(slot, st.ok()); });
  }

  bool Probe() override {
    // A fresh channel per probe: a channel that failed to connect backs off before retrying.
    auto stub =
        echo::Echo::NewStub(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    ctx.set_wait_for_ready(false);
    echo::Response rsp;
    return stub->Call(&ctx, slots_[0].req, &rsp).ok();
  }

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> ctx;
    echo::Request req;
    echo::Response rsp;
  };
  std::string address_;
  std::unique_ptr<echo::Echo::Stub> stub_;
  std::vector<Slot> slots_;
};

}  // namespace

int main(int argc, char** argv) {
  bench::LoadOptions load;
  load.name = "grpc";
  if (auto err = bench::ParseLoadOptions(argc, argv, "grpc-echo-bench --address host:port", load);
      !err.empty()) {
    std::fprintf(stderr, "grpc-echo-bench: %s\n", err.c_str());
    return 2;
  }
  if (load.address.empty()) {
    std::fprintf(stderr, "grpc-echo-bench: --address host:port needed\n");
    return 2;
  }
  GrpcTarget target(load);
  return bench::RunLoad(load, target);
}
