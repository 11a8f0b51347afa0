// The in-process "memory" transport: listeners live in a process-wide table, a Dial makes a
// pair of sockets joined by two message queues.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <random>

#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/plugin/async_queue.h"
#include "micro/plugin/io.h"
#include "micro/transport.h"
#include "transport/runtime.h"

namespace micro {
namespace {

using namespace transport_detail;  // NOLINT(google-build-using-namespace)

using plugin::AsyncQueue;
using MessageQueue = AsyncQueue<Message>;

class MemorySocket final : public Socket {
 public:
  MemorySocket(asio::any_io_executor ex, std::shared_ptr<MessageQueue> in,
               std::shared_ptr<MessageQueue> out, std::string local, std::string remote,
               Duration timeout, std::shared_ptr<void> keep)
      : keep_(std::move(keep)),
        ex_(std::move(ex)),
        in_(std::move(in)),
        out_(std::move(out)),
        local_(std::move(local)),
        remote_(std::move(remote)),
        timeout_(timeout) {}
  ~MemorySocket() override { Close(); }

  asio::awaitable<Status> Send(const Message& msg) override {
    if (closed_) co_return ClosedError();
    if (!out_->Push(msg)) co_return EofError();
    co_return Status{};
  }

  asio::awaitable<Status> Recv(Message& msg) override {
    if (closed_) co_return ClosedError();
    // (Not `switch (co_await ...)`: g++ 12 miscompiles a co_await in a switch condition.)
    const auto st = co_await in_->Pop(msg, timeout_);
    if (st == MessageQueue::PopStatus::kOk) co_return Status{};
    if (st == MessageQueue::PopStatus::kTimeout) co_return TimeoutError("read");
    co_return closed_ ? Status(ClosedError()) : Status(EofError());
  }

  void Close() override {
    if (closed_.exchange(true)) return;
    in_->Close();
    out_->Close();
  }

  std::string Local() const override { return local_; }
  std::string Remote() const override { return remote_; }
  asio::any_io_executor executor() const override { return ex_; }

 private:
  std::shared_ptr<void> keep_;  // the io thread behind ex_, when a transport owns it
  asio::any_io_executor ex_;
  std::shared_ptr<MessageQueue> in_;
  std::shared_ptr<MessageQueue> out_;
  std::string local_;
  std::string remote_;
  Duration timeout_;
  std::atomic<bool> closed_{false};
};

class MemoryListener;

// Process-wide table of memory listeners by address.
struct ListenerTable {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<MemoryListener>, std::less<>> by_addr;
  uint64_t next_client = 0;

  static ListenerTable& Get() {
    static auto* table = new ListenerTable();
    return *table;
  }
};

class MemoryListener final : public Listener {
 public:
  MemoryListener(asio::any_io_executor base, std::string addr, Duration timeout,
                 std::shared_ptr<void> keep)
      : keep_(std::move(keep)),
        base_(base),
        strand_(plugin::MakeStrand(base)),
        addr_(std::move(addr)),
        timeout_(timeout),
        pending_(std::make_shared<AsyncQueue<std::shared_ptr<Socket>>>()) {}
  ~MemoryListener() override { Close(); }

  std::string Addr() const override { return addr_; }

  void Close() override {
    if (closed_.exchange(true)) return;
    {
      auto& t = ListenerTable::Get();
      std::lock_guard lock(t.mu);
      auto it = t.by_addr.find(addr_);
      // Ours (or already dead): free the address.
      if (it != t.by_addr.end() && (it->second.expired() || it->second.lock().get() == this)) {
        t.by_addr.erase(it);
      }
    }
    pending_->Close();
  }

  asio::any_io_executor executor() const override { return strand_; }

  asio::awaitable<Status> Accept(SocketHandler handler) override {
    auto self = shared_from_this();
    for (;;) {
      std::shared_ptr<Socket> sock;
      auto st = co_await pending_->Pop(sock, Duration::zero());
      if (st != AsyncQueue<std::shared_ptr<Socket>>::PopStatus::kOk) break;
      auto ex = sock->executor();  // before sock is moved into the call below
      asio::co_spawn(
          ex,
          [](SocketHandler h, std::shared_ptr<Socket> s) -> asio::awaitable<void> {
            try {
              co_await h(s);
            } catch (const std::exception& e) {
              log::Error("transport: connection handler threw: {}", e.what());
            }
            s->Close();
          }(handler, std::move(sock)),
          asio::detached);
    }
    co_return Status{};
  }

  // Called by Dial: makes the server end of a new connection. Null when closed.
  std::shared_ptr<Socket> Connect(asio::any_io_executor client_ex, Duration client_timeout,
                                  std::shared_ptr<void> client_keep,
                                  std::shared_ptr<Socket>* client) {
    auto server_ex = plugin::MakeStrand(base_);
    auto to_server = std::make_shared<MessageQueue>();
    auto to_client = std::make_shared<MessageQueue>();
    std::string client_addr;
    {
      auto& t = ListenerTable::Get();
      std::lock_guard lock(t.mu);
      client_addr = "memory-client:" + std::to_string(++t.next_client);
    }
    auto server = std::make_shared<MemorySocket>(server_ex, to_server, to_client, addr_,
                                                 client_addr, timeout_, keep_);
    *client = std::make_shared<MemorySocket>(client_ex, to_client, to_server, client_addr, addr_,
                                             client_timeout, std::move(client_keep));
    if (!pending_->Push(server)) return nullptr;
    return server;
  }

 private:
  std::shared_ptr<void> keep_;
  asio::any_io_executor base_;
  asio::any_io_executor strand_;
  std::string addr_;
  Duration timeout_;
  std::shared_ptr<AsyncQueue<std::shared_ptr<Socket>>> pending_;
  std::atomic<bool> closed_{false};
};

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(TransportOptions options, std::shared_ptr<IoThread> io)
      : options_(std::move(options)), io_(std::move(io)) {
    executor_ = options_.executor ? options_.executor : io_->executor();
  }

  std::string String() const override { return "memory"; }
  const TransportOptions& Options() const override { return options_; }
  asio::any_io_executor executor() const override { return executor_; }

  asio::awaitable<Result<std::shared_ptr<Socket>>> Dial(std::string addr,
                                                        DialOptions opts) override {
    // (Not a ?: around co_await: g++ 12 destroys the temporary executor twice.)
    asio::any_io_executor ex = opts.executor;
    if (!ex) ex = co_await asio::this_coro::executor;
    std::shared_ptr<MemoryListener> listener;
    {
      auto& t = ListenerTable::Get();
      std::lock_guard lock(t.mu);
      auto it = t.by_addr.find(addr);
      if (it != t.by_addr.end()) listener = it->second.lock();
    }
    std::shared_ptr<Socket> client;
    if (!listener || !listener->Connect(ex, options_.timeout, io_, &client)) {
      co_return errors::InternalServerError(std::string(kTransportErrorId), "could not dial {}",
                                            addr);
    }
    co_return client;
  }

  Result<std::shared_ptr<Listener>> Listen(std::string addr, ListenOptions) override {
    auto hp = ParseHostPort(addr);
    if (!hp) return std::move(hp).error();
    auto& t = ListenerTable::Get();
    std::lock_guard lock(t.mu);
    auto try_port = [&](uint16_t port) -> std::shared_ptr<MemoryListener> {
      std::string full = JoinHostPort(hp->host, port);
      auto it = t.by_addr.find(full);
      if (it != t.by_addr.end() && !it->second.expired()) return nullptr;
      auto l = std::make_shared<MemoryListener>(executor_, full, options_.timeout, io_);
      t.by_addr[full] = l;
      return l;
    };
    if (hp->min_port == 0 && hp->max_port == 0) {
      // go-micro: a random port in 10000-29999.
      static thread_local std::mt19937 rng{std::random_device{}()};
      std::uniform_int_distribution<int> dist(10000, 29999);
      for (int i = 0; i < 1000; ++i) {
        if (auto l = try_port(static_cast<uint16_t>(dist(rng)))) {
          return std::shared_ptr<Listener>(std::move(l));
        }
      }
    } else {
      for (uint32_t p = hp->min_port; p <= hp->max_port; ++p) {
        if (auto l = try_port(static_cast<uint16_t>(p))) return std::shared_ptr<Listener>(l);
      }
    }
    return errors::InternalServerError(std::string(kTransportErrorId), "address {} in use", addr);
  }

 private:
  TransportOptions options_;
  std::shared_ptr<IoThread> io_;
  asio::any_io_executor executor_;
};

}  // namespace

Result<std::shared_ptr<Transport>> NewMemoryTransport(TransportOptions options) {
  std::shared_ptr<IoThread> io;
  if (!options.executor) io = IoThread::Create();
  return std::shared_ptr<Transport>(
      std::make_shared<MemoryTransport>(std::move(options), std::move(io)));
}

}  // namespace micro
