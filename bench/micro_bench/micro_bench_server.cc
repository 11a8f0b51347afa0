// micro-cpp echo server for the benchmarks: Echo.Call answers with the payload it got.
//   micro-bench-server [--server_address 127.0.0.1:9090] [--registry memory] [--async]
//                      [--threads N]
// Takes every micro::Service flag and MICRO_* variable; service name "echo" unless
// --server_name says otherwise. --async serves Echo.Call with a coroutine handler (on the I/O
// threads) instead of the default sync handler (on the handler pool). --threads sets the I/O
// threads (default: the CPUs this process may run on). Prints
// "listening on <host:port>" once serving.
#include <micro/micro.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "echo.micro.h"

namespace {

class SyncEcho final : public echo::EchoHandler {
 public:
  micro::Status Call(micro::Context&, const echo::Request& req, echo::Response& rsp) override {
    rsp.set_payload(req.payload());
    return {};
  }
};

class AsyncEcho final : public echo::EchoAsyncHandler {
 public:
  asio::awaitable<micro::Status> Call(micro::Context&, const echo::Request& req,
                                      echo::Response& rsp) override {
    rsp.set_payload(req.payload());
    co_return micro::Status{};
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool async = false;
  std::size_t threads = 0;
  for (int i = 1; i < argc; ++i) {
    async = async || std::strcmp(argv[i], "--async") == 0;
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    }
  }
  micro::ServiceOptions options{.name = "echo", .threads = threads};
  micro::Service* self = nullptr;
  options.after_start.push_back([&self] {
    std::printf("listening on %s\n", self->Server().Address().c_str());
    std::fflush(stdout);
    return micro::Status{};
  });
  micro::Service service(std::move(options));
  self = &service;
  if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
  const micro::Status s =
      async ? echo::RegisterEchoHandler(service.Server(), std::make_shared<AsyncEcho>())
            : echo::RegisterEchoHandler(service.Server(), std::make_shared<SyncEcho>());
  if (!s) return service.Fail(s);
  return service.Run();
}
