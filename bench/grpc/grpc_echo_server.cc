// gRPC C++ echo server (Debian's libgrpc++ 1.51, callback API), the peer micro-cpp is compared
// with. Serves echo.Echo/Call from bench/echo.proto, insecure, on one port.
//   grpc-echo-server [--address 127.0.0.1:0]      prints "listening on <host:port>"
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "echo.grpc.pb.h"

namespace {

class EchoService final : public echo::Echo::CallbackService {
  grpc::ServerUnaryReactor* Call(grpc::CallbackServerContext* ctx, const echo::Request* req,
                                 echo::Response* rsp) override {
    rsp->set_payload(req->payload());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--address" && i + 1 < argc) {
      address = argv[++i];
    } else if (a.rfind("--address=", 0) == 0) {
      address = a.substr(10);
    }
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before gRPC starts its threads

  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "grpc-echo-server: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", address.substr(0, address.rfind(':')).c_str(), port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown();
  return 0;
}
