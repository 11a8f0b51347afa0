// The Adder service of go-micro's classic tutorial: Adder.Add returns a + b.
//   sum_server [--registry=memory] [--server_address=127.0.0.1:9091]
#include <micro/micro.h>

#include "sum.micro.h"

namespace {

class Adder final : public sum::AdderHandler {
 public:
  micro::Status Add(micro::Context&, const sum::AddRequest& req, sum::AddResponse& rsp) override {
    rsp.set_sum(req.a() + req.b());
    return {};
  }
};

}  // namespace

int main(int argc, char** argv) {
  micro::Service service({.name = "sum"});
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  if (auto s = sum::RegisterAdderHandler(service.Server(), std::make_shared<Adder>()); !s) {
    return service.Fail(s);
  }
  return service.Run();
}
