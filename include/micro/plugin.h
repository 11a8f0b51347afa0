// Named factory tables: how `--registry=etcd` or MICRO_TRANSPORT=nats finds an implementation.
//
// Each pluggable kind (registry, transport, broker, selector) has one table, reached through
// its own accessor declared in that kind's header (e.g. micro::Transports()). Built-in
// implementations are added by the accessor itself on first use, so they can never be dropped
// by the linker. A plugin library adds its names in a MICRO_PLUGIN(name) { ... } block
// (<micro/plugin/register.h>) and is built with the CMake function micro_add_plugin, so linking
// it is enough; it also offers an explicit constructor (e.g. micro::etcd::NewRegistry). The
// helpers plugins are written with are the rest of <micro/plugin/*.h> (docs/plugins.md).
//
//   micro::Transports().Register("tcp", [](const TransportOptions& o) { return NewTcp(o); });
//   auto t = micro::Transports().Create("tcp", options);   // Result<std::shared_ptr<Transport>>
//
// Errors: Create with an unknown name gives a 404 Error (id "go.micro.plugin") whose detail
// lists the known names, e.g. `unknown registry "etcd" (known: mdns, memory)`.
// Threading: Register, Create, Names and Has may be called concurrently.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <micro/status.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace micro::plugin {

template <class Interface, class Options>
class Registry {
 public:
  using Factory = std::function<Result<std::shared_ptr<Interface>>(const Options&)>;

  // kind names the table in errors: "registry", "transport", ...
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Adds or replaces a factory. Returns true, so it can initialise a static bool.
  bool Register(std::string name, Factory factory) {
    std::lock_guard lock(mu_);
    factories_[std::move(name)] = std::move(factory);
    return true;
  }

  Result<std::shared_ptr<Interface>> Create(std::string_view name, const Options& options) const {
    Factory factory;
    {
      std::lock_guard lock(mu_);
      auto it = factories_.find(name);
      if (it == factories_.end()) {
        return errors::NotFound(error_ids::kPlugin, "unknown {} \"{}\" (known: {})", kind_, name,
                                fmt::join(NamesLocked(), ", "));
      }
      factory = it->second;
    }
    return factory(options);
  }

  bool Has(std::string_view name) const {
    std::lock_guard lock(mu_);
    return factories_.find(name) != factories_.end();
  }

  // Every registered name, sorted.
  std::vector<std::string> Names() const {
    std::lock_guard lock(mu_);
    return NamesLocked();
  }

  const std::string& kind() const { return kind_; }

 private:
  std::vector<std::string> NamesLocked() const {
    std::vector<std::string> names;
    for (const auto& [name, factory] : factories_) names.push_back(name);
    return names;
  }

  std::string kind_;
  mutable std::mutex mu_;
  std::map<std::string, Factory, std::less<>> factories_;
};

}  // namespace micro::plugin
