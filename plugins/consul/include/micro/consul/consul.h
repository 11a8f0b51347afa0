// micro::consul: a Registry on a Consul agent's HTTP API (go-micro's encoding), with the
// library's own HTTP client.
//
//   target_link_libraries(app PRIVATE micro::consul)   // and then, with no code change:
//   ./app --registry=consul --registry_address=127.0.0.1:8500     (or MICRO_REGISTRY=consul)
//   auto reg = micro::consul::NewRegistry({.addrs = {"127.0.0.1:8500"}});   // explicitly
//
// Linking micro::consul adds the name "consul" to micro::Registries().
//
// Encoding (go-micro's): one Consul service per node: ID = node id, Name = service name,
// Address/Port from the node address, Meta = node metadata, Tags = t-/e-/v- (zlib + hex of the
// node metadata pairs, endpoints, version; the legacy plain t=/e=/v= forms are read too).
// Unlike go-micro (which registers only the first node) every node of the Service is
// registered. With a register TTL the service gets a TTL check (TTL = the register TTL,
// DeregisterCriticalServiceAfter = max(ttl, 1m) + 5s, as go-micro) that is passed right after
// registering and on every re-register of an unchanged node (a failed pass re-registers).
// GetService = /v1/health/service/<name>?passing (entries with a critical check are dropped);
// ListServices = /v1/catalog/services (names and version tags, no nodes); Watch = blocking
// queries (?index=<X-Consul-Index>&wait=) on the service's health, or on the catalog plus the
// health of every service in it, diffed into create/update/delete events.
//
// RegistryOptions: addrs = agents "host:port" (several or comma-separated, tried in turn on
// connection failure; default CONSUL_HTTP_ADDR, else 127.0.0.1:8500; ":8500" added when no
// port; "http://" / "https://" accepted, https = TLS); secure = TLS.
// params:
//   consul.token          ACL token, sent as X-Consul-Token (default CONSUL_HTTP_TOKEN)
//   consul.allow_stale    "true" (default, as go-micro) adds ?stale to reads
//   consul.timeout_ms     per request (default 5000)
//   consul.wait           blocking query wait, a Consul duration (default "30s")
//   consul.insecure_skip_verify, consul.ca_file   TLS
// Not implemented: go-micro's TCP/HTTP check options and Connect.
// Errors: no agent reachable = 500 (id "go.micro.registry"); an agent error = 500 with its text.
// Threading: as every Registry (any thread, concurrently).
#pragma once

#include <micro/registry.h>

#include <memory>

namespace micro::consul {

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options = {});

}  // namespace micro::consul
