// The greeter server: Greeter.Hello answers "Hello <name>"; Greeter.Stream greets every name
// it receives until the client ends the stream. Wire-compatible with go-micro's greeter.
//   greeter_server [--registry=memory] [--server_address=127.0.0.1:9090] ...
#include <micro/micro.h>

#include "greeter.micro.h"

namespace {

class Greeter final : public greeter::GreeterHandler {
 public:
  micro::Status Hello(micro::Context&, const greeter::Request& req,
                      greeter::Response& rsp) override {
    if (req.name().empty()) return micro::errors::BadRequest("greeter", "name is required");
    rsp.set_msg("Hello " + req.name());
    return {};
  }

  micro::Status Stream(
      micro::Context&,
      micro::TypedServerStream<greeter::Request, greeter::Response>& stream) override {
    greeter::Request req;
    while (stream.Recv(req)) {
      greeter::Response rsp;
      rsp.set_msg("Hello " + req.name());
      if (auto s = stream.Send(rsp); !s) return s;
    }
    return stream.status();
  }
};

}  // namespace

int main(int argc, char** argv) {
  micro::Service service({.name = "greeter", .version = "latest"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  if (auto s = greeter::RegisterGreeterHandler(service.Server(), std::make_shared<Greeter>()); !s) {
    return service.Fail(s);
  }
  return service.Run();
}
