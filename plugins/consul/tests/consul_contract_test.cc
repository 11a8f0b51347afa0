// The shared registry contract against the FAKE Consul agent (ConsulFake) and, when
// CONSUL_HTTP_ADDR names one, a real agent (ConsulReal; skipped otherwise).
#include <micro/testing/registry_contract.h>

#include <cstdlib>

#include "fake_consul.h"
#include "micro/consul/consul.h"

namespace micro::testing {
namespace {

FakeConsul& SharedFake() {
  static FakeConsul fake;  // stopped (its threads joined) at exit
  return fake;
}

Result<std::shared_ptr<Registry>> MakeFake() {
  return consul::NewRegistry({.addrs = {SharedFake().address()}});
}

std::string RealAgent() {
  const char* addr = std::getenv("CONSUL_HTTP_ADDR");
  return addr ? addr : "";
}

INSTANTIATE_TEST_SUITE_P(ConsulFake, RegistryContractTest,
                         ::testing::Values(RegistryContractParam{
                             .name = "consul_fake",
                             .make = MakeFake,
                             .propagation = std::chrono::seconds(3),
                             .supports_ttl = true,
                             .make_fast_ttl = MakeFake,
                             .skip_reason = {}}),
                         ContractName);

INSTANTIATE_TEST_SUITE_P(
    ConsulReal, RegistryContractTest,
    ::testing::Values(RegistryContractParam{
        .name = "consul_real",
        .make = []() -> Result<std::shared_ptr<Registry>> {
          return consul::NewRegistry({.addrs = {RealAgent()}});
        },
        // A real agent runs its TTL checks and reaper on its own schedule.
        .propagation = std::chrono::seconds(10),
        .supports_ttl = true,
        .make_fast_ttl = []() -> Result<std::shared_ptr<Registry>> {
          return consul::NewRegistry({.addrs = {RealAgent()}});
        },
        .skip_reason =
            [] {
              return RealAgent().empty()
                         ? std::string("CONSUL_HTTP_ADDR is not set: no real Consul agent to test")
                         : std::string();
            }}),
    ContractName);

}  // namespace
}  // namespace micro::testing
