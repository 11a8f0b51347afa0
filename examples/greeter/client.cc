// The greeter client: calls Greeter.Hello, then greets three names over Greeter.Stream.
//   greeter_client [--registry=memory] [name]      MICRO_PROXY=127.0.0.1:9090 greeter_client
#include <micro/micro.h>

#include <cstdio>

#include "greeter.micro.h"

int main(int argc, char** argv) {
  micro::Service service({.name = "greeter.client"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  const std::string name = argc > 1 && argv[argc - 1][0] != '-' ? argv[argc - 1] : "John";

  greeter::GreeterService greeter("greeter", service.Client());
  greeter::Request req;
  req.set_name(name);
  auto rsp = greeter.Hello(req);
  if (!rsp) {
    std::fprintf(stderr, "Greeter.Hello failed: %s\n", rsp.error().ToJson().c_str());
    return 1;
  }
  std::printf("%s\n", rsp->msg().c_str());

  micro::Context ctx;
  auto stream = greeter.Stream(ctx);
  if (!stream) {
    std::fprintf(stderr, "Greeter.Stream failed: %s\n", stream.error().ToJson().c_str());
    return 1;
  }
  for (const char* who : {"Ada", "Grace", "Linus"}) {
    req.set_name(who);
    greeter::Response reply;
    if (!stream->Send(req) || !stream->Recv(reply)) {
      std::fprintf(stderr, "stream failed: %s\n", stream->status().error().ToJson().c_str());
      return 1;
    }
    std::printf("stream: %s\n", reply.msg().c_str());
  }
  (void)stream->Close();
  return 0;
}
