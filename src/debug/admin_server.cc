// The admin HTTP listener: health endpoints and /metrics, on a thread of its own.
#include <mutex>

#include "http/server.h"
#include "micro/observability.h"
#include "micro/runtime.h"

namespace micro {
namespace {

// ":9090" and "9090" bind loopback; a host given explicitly (0.0.0.0 included) is kept.
std::string AdminListenAddress(const std::string& address) {
  if (address.empty()) return "127.0.0.1:0";
  if (address[0] == ':') return "127.0.0.1" + address;
  if (address.find(':') == std::string::npos) return "127.0.0.1:" + address;
  return address;
}

http::ServerReply JsonReply(int status, std::string body) {
  http::ServerReply r{.status = status, .body = std::move(body)};
  r.Set("Content-Type", "application/json");
  return r;
}

class AdminServerImpl final : public AdminServer {
 public:
  explicit AdminServerImpl(std::shared_ptr<Observer> observer)
      : observer_(std::move(observer)), runtime_(std::make_unique<Runtime>(1)) {}
  ~AdminServerImpl() override {
    Close();
    server_.reset();  // its acceptor needs the io_context: before the runtime goes
    runtime_.reset();
  }

  Status Listen(const AdminOptions& options) {
    auto server = http::Server::Start(
        runtime_->executor(),
        {.address = AdminListenAddress(options.address), .error_id = "go.micro.debug"},
        [observer = observer_](http::ServerRequest& req) -> asio::awaitable<http::ServerReply> {
          co_return Serve(*observer, req);
        });
    if (!server) return std::move(server).error();
    server_ = *server;
    return {};
  }

  std::string Addr() const override { return server_ ? server_->Addr() : ""; }

  void Close() override {
    std::lock_guard lock(mu_);
    if (server_) server_->Close();
  }

 private:
  static http::ServerReply Serve(Observer& observer, const http::ServerRequest& req) {
    const std::string& path = req.path;
    const bool known = path == "/health" || path == "/health/live" || path == "/health/ready" ||
                       path == "/metrics";
    if (!known) return JsonReply(404, "{\"error\":\"not found\"}");
    if (req.method != "GET" && req.method != "HEAD") {
      http::ServerReply r = JsonReply(405, "{\"error\":\"method not allowed\"}");
      r.Set("Allow", "GET, HEAD");
      return r;
    }
    const std::map<std::string, std::string> info{{"service", observer.service()},
                                                  {"version", observer.version()}};
    if (path == "/health/live") return JsonReply(200, observer.Live().ToJson(info));
    if (path == "/health" || path == "/health/ready") {
      const HealthReport report = observer.Ready();
      return JsonReply(report.up ? 200 : 503, report.ToJson(info));
    }
    metrics::Registry* reg = observer.Metrics();
    if (!reg) return JsonReply(404, "{\"error\":\"metrics are off\"}");
    http::ServerReply r{.status = 200, .body = reg->Render()};
    r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  }

  std::shared_ptr<Observer> observer_;
  std::unique_ptr<Runtime> runtime_;
  std::mutex mu_;
  std::shared_ptr<http::Server> server_;
};

}  // namespace

Result<std::shared_ptr<AdminServer>> AdminServer::Start(AdminOptions options,
                                                        std::shared_ptr<Observer> observer) {
  auto admin = std::make_shared<AdminServerImpl>(std::move(observer));
  if (Status s = admin->Listen(options); !s) return std::move(s).error();
  return std::shared_ptr<AdminServer>(std::move(admin));
}

}  // namespace micro
