// faults-server: the server the fault tests start as real processes, kill and restart.
//   faults-server --registry etcd --registry_address 127.0.0.1:2379 --server_name faults.echo
//                 --register_ttl 3 --register_interval 1
// Takes every micro::Service flag. Serves Greeter.Hello ("Hello <name>") on the handler pool.
// Prints "listening on <host:port>" once serving; on SIGTERM it stops as a Service does
// (deregister, drain, exit 0), printing "stopped" just before main returns.
#include <micro/micro.h>

#include <cstdio>

#include "greeter.pb.h"

int main(int argc, char** argv) {
  micro::ServiceOptions options{.name = "faults.echo"};
  micro::Service* self = nullptr;
  options.after_start.push_back([&self] {
    std::printf("listening on %s\n", self->Server().Address().c_str());
    std::fflush(stdout);
    return micro::Status{};
  });
  micro::Service service(std::move(options));
  self = &service;
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  micro::Handler greeter{.name = "Greeter"};
  greeter.endpoints.push_back(micro::UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [](micro::Context&, const greeter::Request& req, greeter::Response& rsp) {
        rsp.set_msg("Hello " + req.name());
        return micro::Status{};
      }));
  if (auto s = service.Server().Handle(std::move(greeter)); !s) return service.Fail(s);
  const int code = service.Run();
  std::printf("stopped %d\n", code);
  std::fflush(stdout);
  return code;
}
