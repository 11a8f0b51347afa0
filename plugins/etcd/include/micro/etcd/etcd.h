// micro::etcd: a Registry on etcd v3 (go-micro's layout), over etcd's JSON gateway with the
// library's own HTTP client.
//
//   target_link_libraries(app PRIVATE micro::etcd)   // and then, with no code change:
//   ./app --registry=etcd --registry_address=127.0.0.1:2379      (or MICRO_REGISTRY=etcd)
//   auto reg = micro::etcd::NewRegistry({.addrs = {"127.0.0.1:2379"}});   // explicitly
//
// Linking micro::etcd adds the name "etcd" to micro::Registries() (MICRO_PLUGIN, see
// <micro/plugin/register.h>).
//
// Layout (go-micro's): key `/micro/registry/<service>/<nodeId>` ('/' inside either replaced by
// '-'), value = the go-micro JSON of the service with exactly that one node. With a register
// TTL each node gets its own lease of max(2 s, ceil(ttl)) (etcd's minimum is 2 s); every
// Register of an unchanged node is a keep-alive of that lease (so a node that is no longer
// re-registered expires after its TTL), and a node whose lease was lost (expired, revoked, a
// fresh etcd) is written again with a new lease. TTL 0: a key without lease.
// GetService/ListServices are serialisable prefix reads; Watch is a prefix watch (PUT of a new
// key = create, of an existing key = update, DELETE = delete with the previous value) that
// reconnects (to the next endpoint) and resumes from the last revision it saw.
//
// RegistryOptions: addrs = endpoints "host:port" (several, or comma-separated, tried in turn
// on connection failures; default MICRO_REGISTRY_ADDRESS, else 127.0.0.1:2379; ":2379" added
// when no port; "http://" and "https://" prefixes accepted, https means TLS); secure = TLS.
// params:
//   etcd.username, etcd.password   auth (default ETCD_USERNAME / ETCD_PASSWORD): a token from
//                                  /v3/auth/authenticate, sent as Authorization, renewed
//                                  when etcd rejects it
//   etcd.timeout_ms                per request (default 5000; RegistryOptions::timeout is the
//                                  mDNS lookup window and is not used)
//   etcd.ca_file, etcd.cert_file, etcd.key_file, etcd.insecure_skip_verify ("true")   TLS
// Errors: etcd unreachable on every endpoint = 500 (id "go.micro.registry"), with the last
// endpoint's error; an etcd error answer = 500 with etcd's message.
// Threading: as every Registry (any thread, concurrently), but not from inside a Watcher's
// own I/O thread (there are no callbacks, so this cannot happen through the public API).
#pragma once

#include <micro/registry.h>

#include <memory>

namespace micro::etcd {

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options = {});

}  // namespace micro::etcd
