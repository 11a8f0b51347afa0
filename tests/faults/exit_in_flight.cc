// exit-in-flight: ends the process while calls are in flight on live connections, with the
// server and client never stopped (held by globals), and must exit cleanly: no I/O thread of
// ours runs while static destruction proceeds (util/exit_guard.h). Run by ctest in every
// preset: ASan/UBSan (no suppression for it) and TSan report what such a thread would touch.
// Prints "exiting with N calls in flight" and returns 0.
#include <micro/micro.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "greeter.pb.h"

namespace {

struct Parts {
  std::shared_ptr<micro::Transport> transport;
  std::shared_ptr<micro::Server> server;
  std::shared_ptr<micro::Client> client;
};
Parts* g_parts = nullptr;  // never freed: alive, and reachable, when the process exits
std::atomic<int> g_in_flight{0};

struct Call {
  micro::Context ctx;
  greeter::Request req;
  greeter::Response rsp;
  micro::ClientRequest creq;
  micro::CallOptions opts;
};

}  // namespace

int main() {
  g_parts = new Parts;
  g_parts->transport = *micro::Transports().Create("http", {});
  micro::ServerOptions so;
  so.name = "exit";
  so.address = "127.0.0.1:0";
  so.transport = g_parts->transport;
  g_parts->server = *micro::NewServer(so);
  micro::Handler h{.name = "Greeter"};
  h.endpoints.push_back(micro::UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [](micro::Context&, const greeter::Request& req, greeter::Response& rsp) {
        std::this_thread::sleep_for(std::chrono::milliseconds(req.name() == "slow" ? 200 : 0));
        rsp.set_msg("Hello " + req.name());
        return micro::Status{};
      }));
  if (!g_parts->server->Handle(std::move(h)) || !g_parts->server->Start()) return 1;
  micro::ClientOptions co;
  co.transport = g_parts->transport;
  g_parts->client = *micro::NewClient(co);  // on Runtime::Default()

  const std::string address = g_parts->server->Address();
  for (int i = 0; i < 64; ++i) {
    auto call = std::make_shared<Call>();
    call->req.set_name(i % 2 ? "slow" : "fast");
    call->creq = {"exit", "Greeter.Hello", "application/protobuf", &call->req};
    call->opts.address = {address};
    call->opts.retries = 0;
    ++g_in_flight;
    asio::co_spawn(g_parts->client->executor(),
                   g_parts->client->AsyncCall(call->ctx, call->creq, &call->rsp, call->opts),
                   [call](std::exception_ptr, micro::Status) { --g_in_flight; });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::printf("exiting with %d calls in flight\n", g_in_flight.load());
  std::fflush(stdout);
  return g_in_flight.load() > 0 ? 0 : 2;  // 2: nothing was in flight, the test proves nothing
}
