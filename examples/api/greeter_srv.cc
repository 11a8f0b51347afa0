// go.micro.srv.greeter: Say.Hello answers {"msg": "Hello <name>"}. Reached over HTTP with
//   micro api &
//   curl -d "service=go.micro.srv.greeter" -d "method=Say.Hello" -d 'request={"name": "John"}'
//   http://localhost:8080/rpc
#include <micro/micro.h>

#include "say.micro.h"

namespace {

class Say final : public say::SayHandler {
 public:
  micro::Status Hello(micro::Context&, const say::Request& req, say::Response& rsp) override {
    if (req.name().empty()) return micro::errors::BadRequest("go.micro.srv.greeter", "no name");
    rsp.set_msg("Hello " + req.name());
    return {};
  }
};

}  // namespace

int main(int argc, char** argv) {
  micro::Service service({.name = "go.micro.srv.greeter"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  if (auto s = say::RegisterSayHandler(service.Server(), std::make_shared<Say>()); !s) {
    return service.Fail(s);
  }
  return service.Run();
}
