// Registry errors, event names and the named factory table with the built-in registries.
#include <micro/registry.h>

namespace micro {
namespace registry {

Error ErrNotFound() { return errors::NotFound(error_ids::kRegistry, "service not found"); }
Error ErrWatcherStopped() { return errors::New(error_ids::kRegistry, "watcher stopped", 499); }
bool IsNotFound(const Error& e) { return e.code == 404 && e.detail == "service not found"; }
bool IsWatcherStopped(const Error& e) { return e.code == 499 && e.detail == "watcher stopped"; }

std::string_view ToString(EventType type) {
  switch (type) {
    case EventType::kCreate:
      return "create";
    case EventType::kUpdate:
      return "update";
    case EventType::kDelete:
      return "delete";
    case EventType::kOverride:
      return "override";
  }
  return "unknown";
}

std::optional<EventType> ParseEventType(std::string_view text) {
  for (EventType t :
       {EventType::kCreate, EventType::kUpdate, EventType::kDelete, EventType::kOverride}) {
    if (ToString(t) == text) return t;
  }
  return std::nullopt;
}

}  // namespace registry

plugin::Registry<Registry, RegistryOptions>& Registries() {
  // Built-ins are added here, on first use, so the linker can never drop them.
  static plugin::Registry<Registry, RegistryOptions>* table = [] {
    auto* t = new plugin::Registry<Registry, RegistryOptions>("registry");
    t->Register("memory", [](const RegistryOptions& o) -> Result<std::shared_ptr<Registry>> {
      return NewMemoryRegistry(o);
    });
    t->Register("mdns", [](const RegistryOptions& o) { return NewMdnsRegistry(o); });
    return t;
  }();
  return *table;
}

}  // namespace micro
