// micro::web: the web dashboard of the Micro toolkit (`micro web`), embeddable in any program.
//
//   micro::Service service({.name = "go.micro.web"});
//   if (auto s = service.Init(argc, argv); !s) return service.Fail(s);
//   auto web = micro::web::Dashboard::Start({.address = "127.0.0.1:8082"},
//                                           micro::web::PartsOf(service));
//   if (!web) return service.Fail(web.error());
//
// What it serves (docs/web.md):
// - `/` the dashboard, a single page whose HTML, CSS and JavaScript are compiled into the
//   library (nothing is fetched from elsewhere): the services (searchable, live), one service
//   (versions, nodes, endpoints with their request/response fields), a call form per endpoint
//   and the whole registry as JSON. Every string from the registry is put into the page as text
//   (never as HTML), and the page's Content-Security-Policy allows no inline script.
// - `/registry` JSON `{"services":[...]}` (go-micro registry JSON, one entry per version,
//   sorted by name and version); `/registry?service=NAME` the same for one service (404 when
//   it has none).
// - `/events` server-sent events: `services` with the summary
//   `[{"name","versions":[...],"nodes":n,"web":"<path>"|""}]` at once and again whenever it
//   changes (a registry watch, with polling every poll_interval as a backstop).
// - `/rpc` as the API gateway's (micro::api): POST {service, endpoint, request}.
// - `/{name}/...` reverse-proxied (HTTP and WebSocket) to a random node of the web service
//   `<namespace>.<name>`, with `/{name}` cut from the path and `X-Micro-Web-Base-Path: /{name}`
//   added, as go-micro's web proxy. The names above (`registry`, `events`, `rpc`, `assets`,
//   `favicon.ico`) are the dashboard's own.
//
// Errors: go-micro error JSON with the code as HTTP status (404 unknown service or path, 502
// when a web service does not answer, 503 when it has no nodes).
// Threading: Dashboard methods may be called from any thread. Requests are served on the parts'
// executor. One thread of the dashboard watches the registry (registry calls block).
#pragma once

#include <micro/client.h>
#include <micro/registry.h>
#include <micro/status.h>

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace micro {
class Service;
}

namespace micro::web {

inline constexpr std::string_view kErrorId = "go.micro.web";

struct DashboardOptions {
  std::string address = "127.0.0.1:8082";  // `--address`, MICRO_WEB_ADDRESS
  std::string ns = "go.micro.web";         // `--namespace`, MICRO_WEB_NAMESPACE: web services
  // How often the registry is read again when no watch event came (also the keep-alive of the
  // event streams).
  Duration poll_interval = std::chrono::seconds(5);
  Duration read_timeout = std::chrono::seconds(30);  // a request must arrive whole in this
  std::size_t max_body_bytes = 10 * 1024 * 1024;     // larger: 413
};

// What the dashboard uses: a client for /rpc (required), the registry whose services it shows
// (required; asked directly, from the dashboard's own thread), a cache of it for proxy lookups
// (empty: one of its own) and the executor to serve on (empty: the client's).
struct DashboardParts {
  std::shared_ptr<Client> client;
  std::shared_ptr<Registry> registry;
  std::shared_ptr<RegistryCache> cache;
  asio::any_io_executor executor;
};

// The parts of a Service (after Init): its client, registry, registry cache and I/O threads.
DashboardParts PartsOf(Service& service);

class Dashboard {
 public:
  // Reads the registry once, binds (Addr() is final when it returns) and serves until Close()
  // or destruction. Errors: 400 for missing parts, 500 when it cannot listen.
  static Result<std::unique_ptr<Dashboard>> Start(DashboardOptions options, DashboardParts parts);
  virtual ~Dashboard() = default;
  virtual std::string Addr() const = 0;
  // Stops the watch, stops accepting and closes open connections (event streams too).
  // Idempotent.
  virtual void Close() = 0;
};

// DashboardOptions from MICRO_WEB_ADDRESS and MICRO_WEB_NAMESPACE over the defaults.
DashboardOptions OptionsFromEnv();

}  // namespace micro::web
