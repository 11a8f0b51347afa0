// micro::nats: go-micro's NATS registry, transport and broker over Debian's nats.c (libnats).
//
// Link the CMake target micro::nats and select by name, with no code change:
//   greeter_server --registry=nats --registry_address=127.0.0.1:4222 --transport=nats
//   MICRO_BROKER=nats MICRO_BROKER_ADDRESS=nats://10.0.0.7:4222 ./svc
// or construct explicitly: micro::nats::NewRegistry({.addrs = {"127.0.0.1:4222"}}).
//
// Addresses: `addrs` are NATS server URLs ("nats://host:port", or "host:port", to which
// "nats://" is prepended); several servers may be given (comma-separated on the command line).
// Empty: nats://127.0.0.1:4222, as go-micro.
//
// On the wire (go-micro v5/v6 compatible):
// - Registry "nats": holders answer queries on `micro.nats.query`
//   ({"Action":"get","Service":{"name":X}} or {"Action":"list"}, one JSON Service per version
//   as reply); changes go to `micro.nats.watch` as {"Action":"create"|"delete","Service":{..}}.
//   GetService collects answers until RegistryOptions::timeout (default 100 ms) or until
//   `nats.quorum` nodes answered for one version. There is no TTL: a holder answers while it
//   runs. Params: "nats.query_topic", "nats.watch_topic", "nats.register_action" (create,
//   update or put), "nats.quorum" (0 = wait the whole timeout).
// - Transport "nats": the listen address is a NATS subject ("", ":0" or "host:0" picks a
//   fresh inbox); each dialled socket has an inbox of its own, the server tells sockets apart
//   by reply subject. Payload = JSON {"Header":{..},"Body":"<base64>"}. A closing socket
//   sends one empty message to its peer, which the peer reads as end of stream (go-micro
//   peers discard it as undecodable). Server sockets idle for TransportOptions::idle_timeout
//   end. Dialling does not contact the server: a missing listener is seen at the first Recv
//   (NATS "no responders", a 503, which the client retries as a refused dial) or by the
//   caller's deadline.
// - Broker "nats": payload = JSON message as above; Subscribe with a queue name is a NATS
//   queue subscription (one member each), otherwise a plain subscription (broadcast).
//   Params: "nats.handler_threads" (default 4). Delivery is at most once (NATS core): while
//   disconnected, Publish succeeds into nats.c's reconnect buffer (8 MiB) and the buffer is
//   sent on reconnect, reaching only the subscriptions already back; docs/reliability.md has
//   what a restart or a node failure loses, measured.
//
// Threading: nats.c delivers on its own threads; we never run user code or touch asio objects
// there. Transport messages are queued to the socket's executor; broker messages are run on
// the broker's handler threads (one subscription's messages in order); registry watch events
// are queued for Watcher::Next. Connections reconnect forever (every 100 ms, param
// "nats.reconnect_wait_ms") and nats.c re-creates every subscription after a reconnect.
// Errors: 503 when no NATS server can be reached (the next call tries again), 500 for other
// nats.c failures (detail names the nats.c status), as each interface documents.
#pragma once

#include <micro/broker.h>
#include <micro/registry.h>
#include <micro/transport.h>

#include <memory>
#include <string_view>

namespace micro::nats {

inline constexpr std::string_view kDefaultUrl = "nats://127.0.0.1:4222";

// Registered as "nats" in micro::Registries(). Connects lazily (first call).
Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options = {});
// Registered as "nats" in micro::Transports(). Connects lazily (first Dial or Listen).
Result<std::shared_ptr<Transport>> NewTransport(TransportOptions options = {});
// Registered as "nats" in micro::Brokers(). Connects in Connect().
Result<std::shared_ptr<Broker>> NewBroker(BrokerOptions options = {});

}  // namespace micro::nats
