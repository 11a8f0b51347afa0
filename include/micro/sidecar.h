// micro::sidecar: the Micro toolkit's sidecar (`micro sidecar`), through which an application in
// any language (Python, Ruby, Node...) joins a micro mesh without a port of the library.
//
//   micro::Service service({.name = "go.micro.sidecar"});
//   if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
//   auto car = micro::sidecar::Sidecar::Start(
//       {.app_name = "greeter", .app_address = "127.0.0.1:9000",
//        .healthcheck_url = "http://127.0.0.1:9000/health"},
//       micro::sidecar::PartsOf(service));
//
// The parent application (docs/sidecar.md):
// - is registered as `app_name` (or as what it POSTs to /registry) with ONE node: the sidecar's
//   own transport address (so mesh clients speak mucp to the sidecar), node metadata
//   `sidecar=true` and `app_address`. Its health URL is fetched every health_interval; while it
//   fails (an error or a status other than 200) the app is deregistered, and it is registered
//   again when it recovers. Registrations are refreshed every interval with register_ttl.
// - is called by the mesh through the sidecar: a call to `Handler.Method` arriving on the
//   transport is sent to the app as `POST http://<app_address>/Handler.Method` with the JSON
//   request body and the call's metadata as headers; a 2xx JSON answer is the reply, anything
//   else an error (the app's go-micro error JSON when it sends one). JSON only; no streams.
// - talks to the mesh through the sidecar's HTTP API on `address`:
//   `/registry`  GET: every service (JSON array), `?service=NAME`: its versions (404 if none);
//                POST a Service JSON: register it as the app's (nodes[0].address gives the app's
//                address when app_address is empty; `?ttl=30s` its TTL); DELETE (a Service JSON
//                or `?service=NAME`): deregister it.
//   `/rpc`       as the API gateway's: POST {service, endpoint, request}.
//   `/broker`    `?topic=T[&queue=Q]`: a WebSocket: each frame in is published to T (header
//                Content-Type from the upgrade request, else text/plain), each message on T
//                goes out as a text frame {"Header":{...},"Body":"<base64>"}; a publish that
//                fails is answered with a frame {"Error":{go-micro error}}. POST: publishes the
//                body once.
//   `/health`    200 when the app is healthy (or has no health URL), else the app's status
//                (500 when it does not answer) and why.
//   any other path: the API gateway with `handler` (rpc or proxy) and namespace `ns`.
//
// Errors: go-micro error JSON (id go.micro.sidecar) with the code as HTTP status: 400 for a
// malformed registration (with what is wrong) or a missing topic, 404 for an unknown service,
// 405 for a wrong method. Bad WebSocket frames close the socket with the RFC 6455 code (1002,
// 1007, 1009) and the reason.
// Threading: Sidecar methods may be called from any thread. HTTP and transport requests are
// served on the parts' executor; registry and broker calls (which may block) run on a small
// pool of the sidecar's; one thread runs the health checks and registrations.
#pragma once

#include <micro/broker.h>
#include <micro/client.h>
#include <micro/registry.h>
#include <micro/status.h>
#include <micro/transport.h>

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace micro {
class Service;
}

namespace micro::sidecar {

inline constexpr std::string_view kErrorId = "go.micro.sidecar";

struct SidecarOptions {
  std::string address = "127.0.0.1:8081";  // the HTTP API; `--address`, MICRO_SIDECAR_ADDRESS
  // The parent app: registered at start when app_name is set (then app_address is required).
  std::string app_name;  // `--app_name`, MICRO_SIDECAR_APP_NAME
  std::string app_version = "latest";
  std::string app_address;      // "host:port" of its HTTP server; `--app_address`
  std::string healthcheck_url;  // "http://host:port/path"; empty: always healthy
  Duration health_interval = std::chrono::seconds(30);  // also the re-registration interval
  Duration register_ttl = std::chrono::seconds(90);
  Duration app_timeout = std::chrono::seconds(30);  // calls to the app, unless the call's is less
  // Where mesh calls arrive (on the transport) and what goes into the registry for it.
  std::string inbound_address = "127.0.0.1:0";
  std::string advertise;
  // The API gateway behind every other path.
  std::string handler = "rpc";      // rpc or proxy; `--handler`
  std::string ns = "go.micro.srv";  // `--namespace`
  Duration read_timeout = std::chrono::seconds(30);
  std::size_t max_body_bytes = 10 * 1024 * 1024;
  std::size_t max_frame_bytes = 1024 * 1024;  // largest /broker WebSocket message (else 1009)
};

// What the sidecar uses: a client (/rpc, the gateway), the registry, the transport mesh calls
// arrive on, the broker (/broker; connected by the sidecar if it is not yet) and the executor
// to serve on (empty: the client's). All required but the executor.
struct SidecarParts {
  std::shared_ptr<Client> client;
  std::shared_ptr<Registry> registry;
  std::shared_ptr<Transport> transport;
  std::shared_ptr<Broker> broker;
  asio::any_io_executor executor;
};

// The parts of a Service (after Init): its client, registry, transport, broker and I/O threads.
SidecarParts PartsOf(Service& service);

class Sidecar {
 public:
  // Listens on address and inbound_address (both final when it returns), registers the app
  // when app_name is set (after its first health check) and serves until Close() or
  // destruction. Errors: 400 for bad options (app_name without app_address, a health URL that
  // is not http://host:port/..., a non-positive interval, an unknown handler), 500 when it
  // cannot listen.
  static Result<std::unique_ptr<Sidecar>> Start(SidecarOptions options, SidecarParts parts);
  virtual ~Sidecar() = default;
  virtual std::string Addr() const = 0;         // the HTTP API
  virtual std::string InboundAddr() const = 0;  // the transport listener (registered)
  // Deregisters the app, stops the health checks, closes both listeners. Idempotent.
  virtual void Close() = 0;
};

// SidecarOptions from MICRO_SIDECAR_ADDRESS, _APP_NAME, _APP_ADDRESS, _HEALTHCHECK_URL,
// _HANDLER and _NAMESPACE over the defaults.
SidecarOptions OptionsFromEnv();

}  // namespace micro::sidecar
