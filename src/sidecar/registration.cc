#include "sidecar/registration.h"

#include <algorithm>

#include "micro/errors.h"
#include "micro/logger.h"
#include "micro/plugin/address.h"
#include "micro/sidecar.h"
#include "micro/util.h"
#include "util/worker_pool.h"

namespace micro::sidecar_detail {
namespace {

Error Invalid(std::string what) {
  return errors::BadRequest(std::string(sidecar::kErrorId), "registration: {}", what);
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == ':';
}

// Printable for an error message: what the app sent, without control characters, cut short.
std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

bool IsIdentifier(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<Registration> ParseRegistration(std::string_view json) {
  auto parsed = registry::ServiceFromJson(json);
  if (!parsed) return Invalid("not a service JSON: " + parsed.error().detail);
  Registration r;
  r.service = std::move(*parsed);
  const auto& s = r.service;
  if (s.name.empty()) return Invalid("the service has no name");
  if (s.name.size() > 256 || !std::all_of(s.name.begin(), s.name.end(), IsNameChar)) {
    return Invalid("service name \"" + Shown(s.name) +
                   "\" may only hold letters, digits and . _ - : (at most 256)");
  }
  if (s.version.size() > 256 || !std::all_of(s.version.begin(), s.version.end(), IsNameChar)) {
    return Invalid("version \"" + Shown(s.version) +
                   "\" may only hold letters, digits and . _ - : (at most 256)");
  }
  for (const auto& e : s.endpoints) {
    const auto dot = e.name.find('.');
    if (dot == std::string::npos || !IsIdentifier(std::string_view(e.name).substr(0, dot)) ||
        !IsIdentifier(std::string_view(e.name).substr(dot + 1))) {
      return Invalid("endpoint \"" + Shown(e.name) + "\" is not Handler.Method");
    }
  }
  if (s.nodes.size() > 1) {
    return Invalid(
        "give at most one node: its address is the app's (the sidecar registers "
        "its own node for it)");
  }
  if (!s.nodes.empty() && !s.nodes[0].address.empty()) {
    auto hp = plugin::ParseHostPort(s.nodes[0].address);
    if (!hp || hp->host.empty() || hp->min_port != hp->max_port || hp->min_port == 0) {
      return Invalid("node address \"" + Shown(s.nodes[0].address) + "\" is not host:port");
    }
    r.app_address = s.nodes[0].address;
  }
  r.service.nodes.clear();
  return r;
}

Result<HealthUrl> ParseHealthUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return errors::BadRequest(std::string(sidecar::kErrorId),
                              "health check URL \"{}\" is not http://host:port/path", url);
  }
  std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  HealthUrl out;
  out.address = std::string(rest.substr(0, slash));
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto hp = plugin::ParseHostPort(out.address);
  if (!hp || hp->host.empty() || hp->min_port == 0 || hp->min_port != hp->max_port) {
    return errors::BadRequest(std::string(sidecar::kErrorId),
                              "health check URL \"{}\" has no host:port", url);
  }
  return out;
}

AppRegistrar::AppRegistrar(std::shared_ptr<Registry> registry, Options options)
    : registry_(std::move(registry)),
      options_(std::move(options)),
      node_id_suffix_(NewUuid()),
      healthy_(!options_.health),  // unknown until the first check: not registered yet
      app_address_(options_.app_address) {}

AppRegistrar::~AppRegistrar() { Stop(); }

void AppRegistrar::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AppRegistrar::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard op(op_mu_);
  for (auto& [name, entry] : entries_) {
    if (!entry.registered) continue;
    if (Status s = registry_->Deregister(entry.service); !s) {
      log::Warn("sidecar: deregistering {}: {}", name, s.error());
    }
    entry.registered = false;
  }
}

void AppRegistrar::Run() {
  util::SetThreadName("micro-sidecar");
  for (;;) {
    Round();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, options_.interval, [&] { return stopping_; })) return;
  }
}

HealthResult AppRegistrar::Check() {
  if (!options_.health) return {};
  // The answer must come within the interval (at most 5 s): a hung app is an unhealthy one.
  const Duration timeout = std::min<Duration>(options_.interval, std::chrono::seconds(5));
  http::Request request{.method = "GET", .target = options_.health->target};
  auto rsp =
      http_.SendSync(options_.health->address, std::move(request), Context::WithTimeout(timeout));
  if (!rsp) return {false, 500, rsp.error().detail};
  if (rsp->status != 200) {
    return {false, rsp->status, "Non 200 response: " + std::to_string(rsp->status)};
  }
  return {};
}

void AppRegistrar::Round() {
  const HealthResult health = Check();
  std::lock_guard op(op_mu_);
  bool was = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    was = healthy_;
    healthy_ = health.healthy;
  }
  if (!health.healthy) {
    if (was) log::Warn("sidecar: the app is unhealthy ({}), deregistering it", health.why);
    for (auto& [name, entry] : entries_) {
      if (!entry.registered) continue;
      if (Status s = registry_->Deregister(entry.service); !s) {
        log::Warn("sidecar: deregistering {}: {}", name, s.error());
      }
      entry.registered = false;  // a failed deregistration expires with its TTL
    }
    return;
  }
  if (!was) log::Info("sidecar: the app is healthy again, registering it");
  for (auto& [name, entry] : entries_) {
    entry.service = WithNode(std::move(entry.service));  // app_address may have changed
    Status s = registry_->Register(entry.service, {.ttl = entry.ttl});
    if (!s) log::Warn("sidecar: registering {}: {}", name, s.error());
    entry.registered = entry.registered || s.ok();
  }
}

registry::Service AppRegistrar::WithNode(registry::Service service) const {
  registry::Node node;
  node.id = service.name + "-" + node_id_suffix_;
  node.address = options_.node_address;
  node.metadata = options_.node_metadata;
  node.metadata["app_address"] = AppAddress();
  service.nodes = {std::move(node)};
  return service;
}

Status AppRegistrar::Put(Registration registration, std::optional<Duration> ttl) {
  if (options_.health && !Healthy()) {
    // Not known to be healthy (yet): look now rather than keep the app waiting a round.
    const HealthResult health = Check();
    std::lock_guard lock(mu_);
    healthy_ = health.healthy;
  }
  std::lock_guard op(op_mu_);
  bool healthy = false;
  {
    std::lock_guard lock(mu_);
    if (!registration.app_address.empty()) app_address_ = registration.app_address;
    if (app_address_.empty()) {
      return Invalid(
          "the app's address is unknown: start the sidecar with --app_address or "
          "give it as nodes[0].address");
    }
    healthy = healthy_;
  }
  const std::string name = registration.service.name;
  if (auto it = entries_.find(name); it != entries_.end() && it->second.registered &&
                                     it->second.service.version != registration.service.version) {
    (void)registry_->Deregister(it->second.service);  // the version it replaces
  }
  Entry entry{WithNode(std::move(registration.service)), ttl.value_or(options_.ttl)};
  if (healthy) {
    if (Status s = registry_->Register(entry.service, {.ttl = entry.ttl}); !s) return s;
    entry.registered = true;
  }
  entries_[name] = std::move(entry);
  return {};
}

Status AppRegistrar::Remove(std::string_view name) {
  std::lock_guard op(op_mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return errors::NotFound(std::string(sidecar::kErrorId), "{} is not registered by the app",
                            name);
  }
  Status s;
  if (it->second.registered) s = registry_->Deregister(it->second.service);
  entries_.erase(it);
  return s;
}

std::string AppRegistrar::AppAddress() const {
  std::lock_guard lock(mu_);
  return app_address_;
}

bool AppRegistrar::Healthy() const {
  std::lock_guard lock(mu_);
  return healthy_;
}

}  // namespace micro::sidecar_detail
