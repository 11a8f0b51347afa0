// The parts of the transport API every implementation shares: blocking wrappers, header
// lookup, end-of-stream detection and the named transport table.
#include "micro/transport.h"

#include <asio/strand.hpp>

#include "micro/plugin/io.h"
#include "transport/runtime.h"

namespace micro {

using plugin::RunningInThisThread;
using transport_detail::RunBlocking;

namespace {

Error WouldDeadlock(std::string_view what) {
  return errors::InternalServerError(std::string(kTransportErrorId),
                                     "{} called on the socket's own I/O thread (would deadlock)",
                                     what);
}

}  // namespace

bool IsEof(const Error& error) { return error.id == kTransportErrorId && error.detail == "EOF"; }

bool IsEof(const Status& status) { return !status.ok() && IsEof(status.error()); }

std::optional<std::string_view> GetHeader(const Metadata& header, std::string_view key) {
  if (auto v = header.Get(key)) return v;
  if (key.size() > 64) return std::nullopt;
  char buf[2 + 64];
  buf[0] = 'X';
  buf[1] = '-';
  key.copy(buf + 2, key.size());
  return header.Get(std::string_view(buf, key.size() + 2));
}

Status Socket::SendSync(const Message& msg) {
  if (RunningInThisThread(executor())) return WouldDeadlock("Socket::SendSync");
  return RunBlocking(executor(), Send(msg));
}

Status Socket::RecvSync(Message& msg) {
  if (RunningInThisThread(executor())) return WouldDeadlock("Socket::RecvSync");
  return RunBlocking(executor(), Recv(msg));
}

void Listener::Start(SocketHandler handler) {
  asio::co_spawn(
      executor(),
      [](std::shared_ptr<Listener> self, SocketHandler h) -> asio::awaitable<void> {
        (void)co_await self->Accept(std::move(h));
      }(shared_from_this(), std::move(handler)),
      asio::detached);
}

Status Listener::AcceptSync(SocketHandler handler) {
  if (RunningInThisThread(executor())) return WouldDeadlock("Listener::AcceptSync");
  return RunBlocking(executor(), Accept(std::move(handler)));
}

Result<std::shared_ptr<Socket>> Transport::DialSync(std::string addr, DialOptions opts) {
  if (!opts.executor) opts.executor = plugin::MakeStrand(plugin::Spread(executor()));
  if (RunningInThisThread(opts.executor)) return WouldDeadlock("Transport::DialSync");
  // co_spawn needs a default-constructible result: carry the Result in an optional.
  auto aw = [](Transport* t, std::string a,
               DialOptions o) -> asio::awaitable<std::optional<Result<std::shared_ptr<Socket>>>> {
    co_return co_await t->Dial(std::move(a), std::move(o));
  }(this, std::move(addr), opts);
  auto r = RunBlocking(opts.executor, std::move(aw));
  if (!r) return errors::InternalServerError(std::string(kTransportErrorId), "dial aborted");
  return std::move(*r);
}

plugin::Registry<Transport, TransportOptions>& Transports() {
  static plugin::Registry<Transport, TransportOptions>* table = [] {
    auto* t = new plugin::Registry<Transport, TransportOptions>("transport");
    t->Register("http", [](const TransportOptions& o) { return NewHttpTransport(o); });
    t->Register("memory", [](const TransportOptions& o) { return NewMemoryTransport(o); });
    return t;
  }();
  return *table;
}

}  // namespace micro
