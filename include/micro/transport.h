// micro::Transport: moves Message{header, body} between processes, as go-micro's transport.
//
//   auto t = micro::Transports().Create("http", {});            // or NewHttpTransport({})
//   auto l = (*t)->Listen("127.0.0.1:0");                       // Result<shared_ptr<Listener>>
//   (*l)->Start([](std::shared_ptr<micro::Socket> s) -> asio::awaitable<void> {
//     micro::Message m;
//     while ((co_await s->Recv(m)).ok()) co_await s->Send(m);  // echo
//   });
//   auto c = (*t)->DialSync((*l)->Addr());               // or co_await t->Dial(addr, dial_opts)
//   (*c)->SendSync({.header = {{"Micro-Id", "1"}}, .body = "hi"});
//
// Built-in transports: "http" (the default; go-micro's HTTP transport byte for byte: each
// message is one HTTP/1.1 POST, each reply one `200 OK` response on the same connection) and
// "memory" (in-process, for tests). Others register in Transports().
//
// Threading and executors:
// - Every Socket and Listener is bound to one asio executor (a strand), returned by
//   executor(). Send, Recv and Accept must be awaited from coroutines running on that
//   executor. A socket handed to a Listener handler already runs on its own strand; a socket
//   from Dial is bound to the executor of the coroutine that dialled (or DialOptions::executor).
// - One Send and one Recv may be in flight at the same time on one socket (full duplex), but
//   not two Sends or two Recvs.
// - Close() may be called from any thread, at any time, more than once.
// - The *Sync wrappers block the calling thread; calling one from a thread that runs the
//   socket's executor returns an error (it would deadlock) instead of blocking.
// - When TransportOptions::executor is empty, the transport runs its own io_context on one
//   background thread; every socket and listener it makes keeps that thread alive.
//
// Ownership: sockets and listeners are shared_ptr. Dropping the last reference to a socket
// closes it; a listener that is accepting keeps itself alive until Close().
// Errors: Status/Result with a micro::Error (id "go.micro.transport"): 408 for timeouts,
// 400/413/431 for bad or oversized input, 500 for I/O failures; IsEof() tells a clean end of
// stream (the peer closed between messages) from a failure. Nothing throws.
#pragma once

#include <micro/context.h>
#include <micro/metadata.h>
#include <micro/plugin.h>
#include <micro/status.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace micro {

// One message: go-micro's transport.Message.
struct Message {
  Metadata header;
  std::string body;

  friend bool operator==(const Message&, const Message&) = default;
};

// The error id of transport failures.
inline constexpr std::string_view kTransportErrorId = error_ids::kTransport;

// True for the error a socket returns when the peer closed the connection cleanly between
// messages (Go's io.EOF).
bool IsEof(const Status& status);
bool IsEof(const Error& error);

// go-micro's header lookup: key (case-insensitively), else "X-" + key (go-micro servers
// duplicate Micro-* headers with an X- prefix).
std::optional<std::string_view> GetHeader(const Metadata& header, std::string_view key);

// TLS settings, used when TransportOptions::secure is set.
struct TlsOptions {
  // Our own certificate and key, as files or PEM text (PEM wins when both are set). A server
  // with neither generates a self-signed ECDSA P-256 certificate in memory (org "Micro", one
  // year, SANs = the listen host, or localhost/127.0.0.1/::1 for a wildcard host), as go-micro.
  // A client with a certificate presents it (mutual TLS).
  std::string cert_file, key_file;
  std::string cert_pem, key_pem;
  // Certificate authorities to verify the peer with, as a file or PEM text. A client verifies
  // the server (chain and host name) against these, or against the system store when none is
  // given. A server given a CA asks clients for a certificate and verifies any it gets.
  std::string ca_file;
  std::string ca_pem;
  // Client: do not verify the server at all (go-micro <= v5's default; v6 verifies).
  bool insecure_skip_verify = false;
  // Server: refuse clients without a certificate signed by the CA (needs ca_file or ca_pem).
  bool require_client_cert = false;
};

struct TransportOptions {
  std::vector<std::string> addrs;  // informational, as go-micro's Addrs
  bool secure = false;             // TLS on dial and listen
  TlsOptions tls;
  // go-micro's Timeout: deadline of each Send and each Recv once a message has started
  // (client: of each Recv as a whole). Zero means none.
  Duration timeout{0};
  Duration dial_timeout = std::chrono::seconds(5);  // connect + TLS handshake
  // Server: time allowed to receive a request's header block, counted from the connection's
  // start for the first request and from its first byte for later ones (go-micro's 5 s).
  // Zero: none.
  Duration header_read_timeout = std::chrono::seconds(5);
  // Server: a kept-alive connection with no request in progress is closed after this long;
  // also the longest a body read or a response write may go without progress. Zero: none.
  Duration idle_timeout = std::chrono::seconds(120);
  std::size_t max_header_bytes = 64 * 1024;       // request line/status line plus headers
  std::size_t max_body_bytes = 64 * 1024 * 1024;  // per message
  // Executor for sockets, listeners and timers. Empty: the transport owns an io_context run
  // by one background thread.
  asio::any_io_executor executor;
};

struct DialOptions {
  Duration timeout{0};      // zero: TransportOptions::dial_timeout
  bool stream = false;      // a dedicated connection for a stream (informational for pooling)
  bool conn_close = false;  // send `Connection: close` with every request
  std::optional<bool> insecure_skip_verify;  // overrides TlsOptions::insecure_skip_verify
  // Executor the socket is bound to; empty: the dialling coroutine's executor (DialSync:
  // the transport's executor).
  asio::any_io_executor executor;
};

struct ListenOptions {};

// One connection (client or server side).
class Socket {
 public:
  virtual ~Socket() = default;

  // Writes one message. Client side: one HTTP request; server side: one response.
  virtual asio::awaitable<Status> Send(const Message& msg) = 0;
  // Reads the next message into msg (its header and body are replaced; the body's capacity
  // is reused). A clean end of stream gives an error for which IsEof() is true.
  virtual asio::awaitable<Status> Recv(Message& msg) = 0;
  // Closes the connection; pending Send/Recv complete with an error. Thread-safe, idempotent.
  virtual void Close() = 0;
  // "ip:port" of either end.
  virtual std::string Local() const = 0;
  virtual std::string Remote() const = 0;
  virtual asio::any_io_executor executor() const = 0;
  // True when an idle connection can no longer carry a request: closed, or the peer closed or
  // reset it (or sent bytes nobody asked for). Never blocks; the client checks it before it
  // reuses a pooled connection, so that a request is not written into a connection the server
  // has already closed (it could not tell whether it was handled). Call only while no
  // Send/Recv is pending. Default: false (unknown).
  virtual bool Stale() { return false; }

  // Blocking forms (see the threading rules above).
  Status SendSync(const Message& msg);
  Status RecvSync(Message& msg);
};

// Runs once per accepted connection, on the socket's strand. The socket is closed when the
// handler's coroutine finishes (as go-micro's Accept).
using SocketHandler = std::function<asio::awaitable<void>(std::shared_ptr<Socket>)>;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  virtual ~Listener() = default;

  // The bound address, "host:port" (the real port when listening on :0 or a range).
  virtual std::string Addr() const = 0;
  // Stops accepting; connections already accepted keep running. Thread-safe, idempotent.
  virtual void Close() = 0;
  // Accepts connections until Close(), running handler for each; completes ok after Close(),
  // with an error if accepting failed for good. Call it once.
  virtual asio::awaitable<Status> Accept(SocketHandler handler) = 0;
  virtual asio::any_io_executor executor() const = 0;

  // Runs Accept(handler) in the background on executor() and returns at once.
  void Start(SocketHandler handler);
  // Accept(handler), blocking until Close() (go-micro's Accept).
  Status AcceptSync(SocketHandler handler);
};

class Transport {
 public:
  virtual ~Transport() = default;

  // "http", "memory", ...
  virtual std::string String() const = 0;
  virtual const TransportOptions& Options() const = 0;
  // Connects to addr ("host:port"). Honours DialOptions::timeout (default 5 s). opts has no
  // default: a defaulted aggregate argument inside a co_await expression is destroyed twice by
  // g++ 12. Pass a named DialOptions (an empty one for the defaults).
  virtual asio::awaitable<Result<std::shared_ptr<Socket>>> Dial(std::string addr,
                                                                DialOptions opts) = 0;
  // Binds addr: "host:port", ":port", ":0" (any free port) or "host:min-max" (the first free
  // port of the range). Binding happens before it returns, so Addr() is final.
  virtual Result<std::shared_ptr<Listener>> Listen(std::string addr, ListenOptions opts = {}) = 0;
  // The executor the transport's own work runs on.
  virtual asio::any_io_executor executor() const = 0;

  // Dial, blocking; the socket is bound to opts.executor or the transport's executor.
  Result<std::shared_ptr<Socket>> DialSync(std::string addr, DialOptions opts = {});
};

// The named transport table: "http" and "memory" are built in.
plugin::Registry<Transport, TransportOptions>& Transports();

// go-micro's HTTP transport (name "http").
Result<std::shared_ptr<Transport>> NewHttpTransport(TransportOptions options = {});
// In-process transport (name "memory"): Listen("host:0") picks a port in 10000-29999; Dial
// reaches listeners of any memory transport in this process.
Result<std::shared_ptr<Transport>> NewMemoryTransport(TransportOptions options = {});

}  // namespace micro
