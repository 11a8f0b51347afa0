// The ids of the errors the library itself raises (micro::Error::id), byte for byte go-micro's
// where go-micro has one. A handler's own errors use the service name instead.
//
//   if (err.id == micro::error_ids::kClient && err.code == 408) ...  // a call timed out
//
// Plain constants (char arrays: they convert to std::string and std::string_view alike).
#pragma once

namespace micro::error_ids {

inline constexpr char kClient[] = "go.micro.client";  // calls: selection, connection, timeouts
inline constexpr char kClientCodec[] = "go.micro.client.codec";  // a call's encode/decode failed
// A call's request was sent (or a stream was open) and the connection then failed.
inline constexpr char kClientTransport[] = "go.micro.client.transport";
inline constexpr char kServer[] = "go.micro.server";        // the server (not a handler)
inline constexpr char kTransport[] = "go.micro.transport";  // sockets, listeners, dials
inline constexpr char kRegistry[] = "go.micro.registry";    // registries (and not found)
inline constexpr char kMdns[] = "go.micro.mdns";            // the mDNS registry's own checks
inline constexpr char kSelector[] = "go.micro.selector";    // no such service / no nodes
inline constexpr char kBroker[] = "go.micro.broker";        // brokers
inline constexpr char kCodec[] = "go.micro.codec";          // codecs (decode/encode)
inline constexpr char kContext[] = "go.micro.context";      // cancelled or past deadline
inline constexpr char kPlugin[] = "go.micro.plugin";        // unknown plugin names
inline constexpr char kService[] = "go.micro.service";      // flags and configuration
inline constexpr char kHttp[] = "go.micro.http";            // the HTTP/1.1 client

}  // namespace micro::error_ids
