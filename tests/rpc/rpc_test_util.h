// Test fixtures for the RPC layer: a greeter handler and a server + client pair on a chosen
// transport with a memory registry.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "greeter.pb.h"
#include "micro/client.h"
#include "micro/handler.h"
#include "micro/registry.h"
#include "micro/selector.h"
#include "micro/server.h"
#include "micro/transport.h"

namespace micro::testing_util {

// "Streamer.Bidi": answers every request with "echo <name>" until the client ends.
inline Handler EchoStreamHandler() {
  using Stream = TypedServerStream<greeter::Request, greeter::Response>;
  Handler h{.name = "Streamer"};
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Streamer.Bidi", StreamKind::kBidiStream, [](Context&, Stream& s) {
        greeter::Request req;
        while (s.Recv(req)) {
          greeter::Response rsp;
          rsp.set_msg("echo " + req.name());
          if (Status st = s.Send(rsp); !st) return st;
        }
        return s.status();
      }));
  return h;
}

// "Greeter.Hello" answering "Hello <name>", with hooks for the tests.
inline Handler GreeterHandler(std::function<Status(Context&, const greeter::Request&)> hook = {}) {
  Handler h{.name = "Greeter"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [hook](Context& ctx, const greeter::Request& req, greeter::Response& rsp) {
        if (hook) {
          if (Status s = hook(ctx, req); !s) return s;
        }
        rsp.set_msg("Hello " + req.name());
        return Status{};
      }));
  return h;
}

struct RpcPair {
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Registry> registry;
  std::shared_ptr<Server> server;
  std::shared_ptr<Selector> selector;
  std::shared_ptr<Client> client;

  static RpcPair Make(const std::string& transport_name, ServerOptions server_options = {},
                      ClientOptions client_options = {}, TransportOptions transport_options = {}) {
    RpcPair p;
    p.transport = *Transports().Create(transport_name, transport_options);
    p.registry = *NewMemoryRegistry();
    server_options.transport = p.transport;
    server_options.registry = p.registry;
    if (server_options.name == "go.micro.server") server_options.name = "greeter";
    if (server_options.address == ":0") server_options.address = "127.0.0.1:0";
    p.server = *NewServer(server_options);
    p.selector = *NewSelector({.registry = p.registry});
    client_options.transport = p.transport;
    client_options.selector = p.selector;
    p.client = *NewClient(client_options);
    return p;
  }
};

}  // namespace micro::testing_util
