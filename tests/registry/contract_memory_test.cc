// The shared registry contract, run against the memory registry.
#include <micro/testing/registry_contract.h>

namespace micro::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(Memory, RegistryContractTest,
                         ::testing::Values(RegistryContractParam{
                             .name = "memory",
                             .make = []() -> Result<std::shared_ptr<Registry>> {
                               return NewMemoryRegistry();
                             },
                             .propagation = std::chrono::seconds(2),
                             .supports_ttl = true,
                             .make_fast_ttl = []() -> Result<std::shared_ptr<Registry>> {
                               RegistryOptions o;
                               o.params["memory.prune_interval_ms"] = "20";
                               return NewMemoryRegistry(o);
                             },
                             .skip_reason = {}}),
                         ContractName);

}  // namespace
}  // namespace micro::testing
