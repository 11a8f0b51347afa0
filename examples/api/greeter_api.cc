// go.micro.api.greeter: the API service in front of go.micro.srv.greeter. `micro api` routes
//   curl "http://localhost:8080/greeter/say/hello?name=John"
// here (namespace go.micro.api, path /greeter/say/hello -> Say.Hello); the endpoint's
// `handler: api` metadata makes the gateway send the whole request as go.api.Request.
#include <micro/micro.h>

#include "say.micro.h"
#include "say_api.micro.h"

namespace {

class SayApi final : public say_api::SayHandler {
 public:
  explicit SayApi(std::shared_ptr<micro::Client> client)
      : greeter_("go.micro.srv.greeter", client) {}

  micro::Status Hello(micro::Context& ctx, const go::api::Request& req,
                      go::api::Response& rsp) override {
    auto name = req.get().find("name");
    if (name == req.get().end() || name->second.values().empty()) {
      return micro::errors::BadRequest("go.micro.api.greeter", "Please provide a name");
    }
    say::Request hello;
    hello.set_name(name->second.values(0));
    auto answer = greeter_.Hello(hello, ctx);
    if (!answer) return std::move(answer).error();
    rsp.set_statuscode(200);
    // JSON text built by hand to keep the example short; names are plain here.
    rsp.set_body(R"({"message":")" + answer->msg() + "\"}");
    return {};
  }

 private:
  say::SayService greeter_;
};

}  // namespace

int main(int argc, char** argv) {
  micro::Service service({.name = "go.micro.api.greeter"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  micro::HandlerOptions api_handler{.endpoint_metadata = {{"Say.Hello", {{"handler", "api"}}}}};
  if (auto s = say_api::RegisterSayHandler(service.Server(),
                                           std::make_shared<SayApi>(service.Client()), api_handler);
      !s) {
    return service.Fail(s);
  }
  return service.Run();
}
