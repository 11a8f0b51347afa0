// The registry contract: what every Registry implementation (memory, mdns, the etcd / consul /
// nats plugins, and yours) must do. A value-parameterised GoogleTest suite, installed with the
// package: link `micro::contract_tests` (and GTest::gtest_main) into a test binary and
// instantiate RegistryContractTest with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Etcd, RegistryContractTest, ::testing::Values(RegistryContractParam{
//       .name = "etcd", .make = [] { return micro::etcd::NewRegistry({...}); }}),
//       micro::testing::ContractName);
//
// Events may arrive late and lookups may lag behind writes (`propagation` bounds how long).
// Every test uses service names unique to the process, so implementations that share state
// (a network, a server) do not see each other's leftovers.
#pragma once

#include <gtest/gtest.h>
#include <micro/registry.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace micro::testing {

struct RegistryContractParam {
  std::string name{};
  std::function<Result<std::shared_ptr<Registry>>()> make{};
  Duration propagation = std::chrono::seconds(3);  // how long until a write is visible
  bool supports_ttl = false;  // Register's ttl expires nodes (memory, etcd, consul)
  // Needed when supports_ttl: a registry whose TTL expiry is checked often enough for a
  // 300 ms TTL to lapse within `propagation`.
  std::function<Result<std::shared_ptr<Registry>>()> make_fast_ttl{};
  // Non-empty: why this environment cannot run the suite (the tests are skipped).
  std::function<std::string()> skip_reason{};
  // GetService of an unknown (or no longer registered) service answers an empty list instead
  // of ErrNotFound(): mDNS, as go-micro's mdns registry (a multicast lookup that hears nothing
  // cannot tell "no such service" from "nobody answered").
  bool not_found_is_empty = false;
};

inline void PrintTo(const RegistryContractParam& param, std::ostream* os) { *os << param.name; }

inline std::string ContractName(const ::testing::TestParamInfo<RegistryContractParam>& info) {
  return info.param.name;
}

class RegistryContractTest : public ::testing::TestWithParam<RegistryContractParam> {
 protected:
  void SetUp() override {
    if (GetParam().skip_reason) {
      if (std::string why = GetParam().skip_reason(); !why.empty()) GTEST_SKIP() << why;
    }
    auto r = GetParam().make();
    ASSERT_TRUE(r.ok()) << r.error();
    reg_ = *r;
  }

  // A service name no other test (or earlier run) uses.
  static std::string Unique(std::string_view base) {
    static std::atomic<int> n{0};
    return fmt::format("{}-{}-{}", base, getpid(), n++);
  }

  static registry::Service MakeService(const std::string& name, const std::string& version,
                                       std::vector<std::pair<std::string, int>> nodes) {
    registry::Service s;
    s.name = name;
    s.version = version;
    registry::Endpoint e;
    e.name = "Greeter.Hello";
    e.request = registry::Value{"Request", "Request", {{"name", "string", {}}}};
    e.response = registry::Value{"Response", "Response", {{"msg", "string", {}}}};
    s.endpoints.push_back(e);
    for (auto& [id, port] : nodes) {
      registry::Node n;
      n.id = id;
      n.address = fmt::format("127.0.0.1:{}", port);
      n.metadata = {{"protocol", "mucp"}, {"transport", "http"}};
      s.nodes.push_back(n);
    }
    return s;
  }

  // Polls GetService until pred holds (or the propagation deadline passes); returns the last
  // answer.
  Result<std::vector<registry::Service>> Eventually(
      const std::string& name,
      const std::function<bool(const Result<std::vector<registry::Service>>&)>& pred) {
    const auto deadline = Clock::now() + GetParam().propagation;
    for (;;) {
      auto r = reg_->GetService(name);
      if (pred(r) || Clock::now() > deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The service is not there: ErrNotFound(), or an empty list where the registry answers so
  // (not_found_is_empty). Any other error is not "gone".
  static bool Gone(const Result<std::vector<registry::Service>>& r) {
    return r.ok() ? r->empty() : registry::IsNotFound(r.error());
  }

  static size_t NodeCount(const Result<std::vector<registry::Service>>& r) {
    if (!r.ok()) return 0;
    size_t n = 0;
    for (const auto& s : *r) n += s.nodes.size();
    return n;
  }

  // The next event for `name` within the propagation time, skipping others.
  Result<registry::Event> NextFor(registry::Watcher& w, const std::string& name,
                                  registry::EventType type) {
    const auto deadline = Clock::now() + GetParam().propagation;
    while (Clock::now() < deadline) {
      auto ev = w.Next(std::chrono::milliseconds(100));
      if (!ev.ok()) {
        if (ev.error().code == 408) continue;
        return ev;
      }
      if (ev->service.name != name) continue;
      if (type == registry::EventType::kDelete && ev->type != type) continue;
      if (type != registry::EventType::kDelete && ev->type == registry::EventType::kDelete) {
        continue;
      }
      return ev;
    }
    return errors::Timeout("contract", "no {} event for {}", registry::ToString(type), name);
  }

  std::shared_ptr<Registry> reg_{};
};

}  // namespace micro::testing
