// go-micro's selector filters and strategies.
#include <micro/selector.h>

#include <algorithm>
#include <atomic>
#include <random>

namespace micro::selector {
namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

Strategy Random() {
  return [](NodeList nodes) -> Next {
    return [nodes = std::move(nodes)]() -> Result<const registry::Node*> {
      std::uniform_int_distribution<size_t> pick(0, nodes->size() - 1);
      return &(*nodes)[pick(Rng())];
    };
  };
}

Strategy RoundRobin() {
  return [](NodeList nodes) -> Next {
    auto position = std::make_shared<std::atomic<size_t>>(Rng()() % nodes->size());
    return [nodes = std::move(nodes), position]() -> Result<const registry::Node*> {
      return &(*nodes)[position->fetch_add(1, std::memory_order_relaxed) % nodes->size()];
    };
  };
}

// Keys name the filter and its arguments; a length prefix keeps "a"+"bc" apart from "ab"+"c".
Filter FilterEndpoint(std::string name) {
  std::string key = "endpoint:" + name;
  return {std::move(key), [name = std::move(name)](std::vector<registry::Service> services) {
            std::erase_if(services, [&](const registry::Service& s) {
              return std::none_of(s.endpoints.begin(), s.endpoints.end(),
                                  [&](const registry::Endpoint& e) { return e.name == name; });
            });
            return services;
          }};
}

Filter FilterLabel(std::string key, std::string value) {
  std::string id = "label:" + std::to_string(key.size()) + ":" + key + value;
  return {std::move(id), [key = std::move(key),
                          value = std::move(value)](std::vector<registry::Service> services) {
            for (auto& s : services) {
              std::erase_if(s.nodes, [&](const registry::Node& n) {
                auto it = n.metadata.find(key);
                return it == n.metadata.end() || it->second != value;
              });
            }
            std::erase_if(services, [](const registry::Service& s) { return s.nodes.empty(); });
            return services;
          }};
}

Filter FilterVersion(std::string version) {
  std::string key = "version:" + version;
  return {std::move(key), [version = std::move(version)](std::vector<registry::Service> services) {
            std::erase_if(services,
                          [&](const registry::Service& s) { return s.version != version; });
            return services;
          }};
}

Error ErrNotFound(std::string_view service) {
  return errors::NotFound(error_ids::kSelector, "service {}: not found", service);
}

Error ErrNoneAvailable(std::string_view service) {
  return errors::InternalServerError(error_ids::kSelector, "service {}: none available", service);
}

}  // namespace micro::selector
