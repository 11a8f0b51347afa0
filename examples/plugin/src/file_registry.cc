// micro::file: the Registry over node files (node_files.h) and its polling Watchers.
#include <micro/file/file.h>
#include <micro/plugin/watch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "node_files.h"

namespace micro::file {
namespace {
namespace fs = std::filesystem;
using file_detail::NodeFiles;

fs::path DefaultRoot() {
  if (const char* env = std::getenv("MICRO_REGISTRY_ADDRESS"); env && *env) return env;
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) return fs::path(tmp) / "micro-registry";
  return "/tmp/micro-registry";
}

// What one Watcher shares with its polling thread and with the registry's WatchList.
struct WatchState {
  std::shared_ptr<plugin::WatchQueue> queue;
  Context ctx;  // cancelled when the registry goes
  std::thread poller;
};

registry::Event MakeEvent(registry::EventType type, const registry::Service& service) {
  return registry::Event{
      .type = type, .service = service, .timestamp = std::chrono::system_clock::now()};
}

// Rescans every `poll` and pushes what changed since the previous scan, until stopped.
void Poll(WatchState* w, fs::path root, std::string service, NodeFiles last, Duration poll) {
  constexpr Duration kSlice = std::chrono::milliseconds(10);
  auto stopped = [w] { return w->ctx.cancelled() || w->queue->stopped(); };
  while (!stopped()) {
    for (Duration slept{}; slept < poll && !stopped(); slept += kSlice) {
      std::this_thread::sleep_for(kSlice);
    }
    if (stopped()) break;
    NodeFiles now = file_detail::ScanNodes(root, service);
    for (const auto& [path, node] : now) {
      auto before = last.find(path);
      if (before == last.end()) {
        w->queue->Push(MakeEvent(registry::EventType::kCreate, node.service));
      } else if (before->second.service_json != node.service_json) {
        w->queue->Push(MakeEvent(registry::EventType::kUpdate, node.service));
      }
    }
    for (const auto& [path, node] : last) {
      if (!now.contains(path))
        w->queue->Push(MakeEvent(registry::EventType::kDelete, node.service));
    }
    last = std::move(now);
  }
}

class FileRegistry final : public Registry {
 public:
  FileRegistry(fs::path root, Duration poll) : root_(std::move(root)), poll_(poll) {}
  ~FileRegistry() override { watches_.StopAll(); }

  Status Register(const registry::Service& service, const RegisterOptions& options) override {
    if (service.name.empty()) {
      return errors::BadRequest(error_ids::kRegistry, "file registry: service without a name");
    }
    const int64_t expires =
        options.ttl > Duration::zero()
            ? file_detail::UnixMillis() +
                  std::chrono::duration_cast<std::chrono::milliseconds>(options.ttl).count()
            : 0;
    file_detail::RemoveExpired(root_, service.name);
    for (const auto& node : service.nodes) {
      registry::Service one = service;
      one.nodes = {node};
      if (Status st = file_detail::WriteNode(root_, one, expires); !st.ok()) return st;
    }
    return {};
  }

  Status Deregister(const registry::Service& service) override {
    for (const auto& node : service.nodes) {
      if (Status st = file_detail::RemoveNode(root_, service.name, node.id); !st.ok()) return st;
    }
    file_detail::RemoveExpired(root_, service.name);
    return {};
  }

  Result<std::vector<registry::Service>> GetService(std::string_view name) override {
    if (name.empty()) return registry::ErrNotFound();
    std::map<std::string, registry::Service> by_version;
    for (auto& [path, node] : file_detail::ScanNodes(root_, name)) {
      auto [it, fresh] = by_version.try_emplace(node.service.version, node.service);
      if (!fresh) it->second.nodes.push_back(node.service.nodes.front());
    }
    if (by_version.empty()) return registry::ErrNotFound();
    std::vector<registry::Service> out;
    for (auto& [version, service] : by_version) out.push_back(std::move(service));
    return out;
  }

  Result<std::vector<registry::Service>> ListServices() override {
    std::map<std::pair<std::string, std::string>, registry::Service> seen;
    for (auto& [path, node] : file_detail::ScanNodes(root_, {})) {
      seen.try_emplace({node.service.name, node.service.version},
                       registry::Service{.name = node.service.name,
                                         .version = node.service.version,
                                         .metadata = node.service.metadata});
    }
    std::vector<registry::Service> out;
    for (auto& [key, service] : seen) out.push_back(std::move(service));
    return out;
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto w = std::make_shared<WatchState>();
    w->queue = std::make_shared<plugin::WatchQueue>(options.service);
    // The first scan happens here, so nothing written after Watch returns is missed.
    NodeFiles first = file_detail::ScanNodes(root_, options.service);
    w->poller = std::thread(Poll, w.get(), root_, options.service, std::move(first), poll_);
    watches_.Add(w);
    auto stop = [w] {
      w->ctx.Cancel();
      w->queue->Stop();
      if (w->poller.joinable()) w->poller.join();
    };
    return std::unique_ptr<registry::Watcher>(
        std::make_unique<plugin::QueueWatcher>(w->queue, std::move(stop)));
  }

  std::string String() const override { return "file"; }

 private:
  const fs::path root_;
  const Duration poll_;
  plugin::WatchList<WatchState> watches_;
};

}  // namespace

Result<std::shared_ptr<Registry>> NewRegistry(RegistryOptions options) {
  fs::path root = options.addrs.empty() || options.addrs.front().empty()
                      ? DefaultRoot()
                      : fs::path(options.addrs.front());
  Duration poll = std::chrono::milliseconds(100);
  if (auto it = options.params.find("file.poll_ms"); it != options.params.end()) {
    char* end = nullptr;
    const long ms = std::strtol(it->second.c_str(), &end, 10);
    if (end == it->second.c_str() || *end != '\0' || ms <= 0) {
      return errors::BadRequest(error_ids::kRegistry, "file registry: bad file.poll_ms \"{}\"",
                                it->second);
    }
    poll = std::chrono::milliseconds(ms);
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return errors::InternalServerError(error_ids::kRegistry, "file registry: cannot create {}: {}",
                                       root.string(), ec.message());
  }
  return std::shared_ptr<Registry>(std::make_shared<FileRegistry>(std::move(root), poll));
}

}  // namespace micro::file
