// micro::Server: serves handlers over a transport and registers itself (go-micro's mucp server).
//
//   auto server = micro::NewServer({.name = "greeter", .transport = t, .registry = r});
//   greeter::RegisterGreeterHandler(**server, std::make_shared<MyGreeter>());
//   (*server)->Start();    // listen, register, re-register every interval
//   ...
//   (*server)->Stop();     // deregister, stop accepting, drain in-flight calls, close
//
// Wire behaviour is go-micro's (reference/go-micro.md §8): dispatch on Micro-Endpoint (else
// Micro-Method) "Handler.Method"; go-micro's error texts for ill-formed or unknown endpoints; the
// `Timeout` header (nanoseconds) becomes the call's deadline; every request header becomes
// context metadata, plus `Local` and `Remote`; no Content-Type means protobuf; an unsupported
// Content-Type is answered with a text/plain body as go-micro does; errors ride in Micro-Error
// (and X-Micro-Error) with an empty body.
//
// Registration: node id "<name>-<id>" (id: a UUID made once per process unless given), node
// metadata protocol=mucp, transport, broker, server, registry plus the user's, one endpoint
// description per advertised endpoint (request/response fields from the protobuf descriptors,
// three levels deep), one per subscriber. Re-registers every register_interval with
// register_ttl. Start connects the broker and subscribes; Stop unsubscribes first.
//
// Threading: Handle before Start; Start/Stop from any thread but not concurrently with each
// other, and not from an I/O thread or a handler. Sync handlers run on a handler pool whose
// threads start on demand: at most handler_threads unary handlers run at once (more wait their
// turn). A sync stream handler runs on a pool thread of its own, outside that limit, for as long
// as the stream is open, so open (even idle) streams never starve unary handlers; each open sync
// stream costs one thread. Coroutine handlers run on the I/O executor. Re-registration is a timer
// on the I/O executor (ServerOptions::executor, else the listener's) whose registry call runs on
// the handler pool.
#pragma once

#include <micro/handler.h>
#include <micro/registry.h>
#include <micro/status.h>
#include <micro/subscriber.h>
#include <micro/util.h>

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace micro {

class Transport;
class Broker;

struct ServerOptions {
  std::string name = "go.micro.server";
  std::string id;  // empty: the process-wide UUID (DefaultServerId())
  std::string version = "latest";
  std::string address = ":0";  // listen address (host:port, :0, host:min-max)
  std::string advertise;       // address put in the registry, if not the listen address
  std::map<std::string, std::string> metadata;
  Duration register_ttl = std::chrono::seconds(90);
  Duration register_interval = std::chrono::seconds(30);
  // Stop waits this long for in-flight calls before closing connections (go-micro: no drain).
  Duration drain_timeout = std::chrono::seconds(5);
  std::size_t handler_threads = 0;  // 0: Runtime::Cpus() (at least 2)
  // Load shedding: with this many unary calls running (or waiting for a handler thread), a new
  // one is answered at once with 503 "server busy: ..." (resilience::ServerBusy) instead of
  // queueing. Streams do not count and are never shed. 0: no limit (go-micro's behaviour).
  std::size_t max_in_flight = 0;
  // Every sync unary handler is treated as Endpoint::non_blocking: run on the I/O threads, no
  // handler-pool hop. For services whose handlers only compute (see docs/rpc.md).
  bool inline_handlers = false;
  std::vector<HandlerWrapper> wrappers;                // first listed is outermost
  std::vector<ServerStreamWrapper> stream_wrappers;    // first listed is outermost
  std::vector<SubscriberWrapper> subscriber_wrappers;  // first listed is outermost
  // Runs before every registration, the first one (in Start) included: while it fails the
  // server is not registered (deregistered if it was) and Start still succeeds; re-registration
  // retries it every register_interval.
  std::function<Status()> register_check;
  // Carries the subscribers' messages; optional: Subscribe fails (400) at Start without one.
  std::shared_ptr<Broker> broker;

  std::shared_ptr<Transport> transport;  // required
  std::shared_ptr<Registry> registry;    // optional: nothing is registered without one
  asio::any_io_executor executor;        // I/O executor; empty: the transport's
};

class Server {
 public:
  virtual ~Server() = default;
  // Adds a handler. Fails (409) when its name is taken, (400) when it has no endpoints or an
  // endpoint's name is not "<handler>.<Method>".
  virtual Status Handle(Handler handler) = 0;
  // Adds a broker subscriber (subscriber.h). After Start it subscribes at once.
  virtual Status Subscribe(ServerSubscriber subscriber) = 0;
  virtual Status Start() = 0;
  virtual Status Stop() = 0;
  // The bound address once started ("host:port").
  virtual std::string Address() const = 0;
  // What Start registers (name, version, node, endpoints); useful for tests and tools.
  virtual registry::Service Registration() const = 0;
  virtual const ServerOptions& Options() const = 0;
  virtual std::string String() const = 0;  // "mucp"
};

Result<std::shared_ptr<Server>> NewServer(ServerOptions options);

template <class Msg, class Fn>
Status Subscribe(Server& server, std::string topic, Fn&& fn, SubscriberOptions options) {
  return server.Subscribe(NewSubscriber<Msg>(
      std::move(topic), std::function<Status(Context&, const Msg&)>(std::forward<Fn>(fn)),
      std::move(options)));
}

// A random UUID made once per process (go-micro's server.DefaultId). (NewUuid: micro/util.h.)
const std::string& DefaultServerId();

}  // namespace micro
