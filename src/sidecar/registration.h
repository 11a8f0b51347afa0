// The parent app's registration: what a POST /registry may say (checked as a pure function, so
// it can be tested and fuzzed), and the registrar that keeps the app in the registry while its
// health checks pass.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "micro/http_client.h"
#include "micro/registry.h"
#include "micro/status.h"

namespace micro::sidecar_detail {

struct Registration {
  registry::Service service;  // name, version, metadata, endpoints (nodes cleared)
  std::string app_address;    // nodes[0].address when given, else ""
};

// Letters, digits and '_', at least one: each half of an endpoint name `Handler.Method`.
bool IsIdentifier(std::string_view s);

// A service JSON from the app, checked: 400 "registration: <what is wrong>" for JSON that does
// not parse, no name, a name or version with characters other than letters, digits and
// `. _ - :` (or longer than 256), an endpoint that is not `Handler.Method` (letters, digits,
// '_'), more than one node, or a node address that is not host:port.
Result<Registration> ParseRegistration(std::string_view json);

// "http://host:port/path" -> host:port and the target ("/path", "/" when absent). 400 else.
struct HealthUrl {
  std::string address;
  std::string target;
};
Result<HealthUrl> ParseHealthUrl(std::string_view url);

struct HealthResult {
  bool healthy = true;
  int status = 200;  // the app's status, 500 when it did not answer
  std::string why;   // "" when healthy
};

// Keeps the app's services registered with the sidecar's node while the app is healthy.
// Threading: every method from any thread; Put/Remove/Check block (registry and HTTP calls).
class AppRegistrar {
 public:
  struct Options {
    std::string node_address;  // the sidecar's inbound address, advertised
    std::map<std::string, std::string> node_metadata;
    std::string app_address;  // may stay "" until a registration gives one
    std::optional<HealthUrl> health;
    Duration interval;
    Duration ttl;
  };
  AppRegistrar(std::shared_ptr<Registry> registry, Options options);
  ~AppRegistrar();

  // Starts the health/registration thread (its first round runs at once).
  void Start();
  // Stops the thread and deregisters everything registered. Idempotent.
  void Stop();

  // Adds or replaces one of the app's services; registers it now unless the app is unhealthy.
  // ttl: this service's registry TTL (nullopt: the default). 400 when the app's address is
  // still unknown; the registry's error when registering fails.
  Status Put(Registration registration, std::optional<Duration> ttl);
  // Deregisters and forgets a service. 404 when it is not one of the app's.
  Status Remove(std::string_view name);

  // Fetches the health URL now.
  HealthResult Check();
  std::string AppAddress() const;
  bool Healthy() const;

 private:
  struct Entry {
    registry::Service service;  // with the sidecar's node
    Duration ttl;
    bool registered = false;
  };
  void Run();
  void Round();  // one health check and the registrations it calls for
  registry::Service WithNode(registry::Service service) const;

  const std::shared_ptr<Registry> registry_;
  Options options_;
  std::string node_id_suffix_;
  http::Client http_;

  mutable std::mutex mu_;  // guards what follows; registry calls are made under op_mu_ only
  std::mutex op_mu_;       // one registry operation at a time (Put/Remove/Round/Stop)
  std::condition_variable cv_;
  bool stopping_ = false;
  bool healthy_ = true;
  std::string app_address_;
  std::map<std::string, Entry, std::less<>> entries_;
  std::thread thread_;
};

}  // namespace micro::sidecar_detail
