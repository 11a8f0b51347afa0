// The shared registry contract against a real etcd (started by the test binary).
#include <micro/testing/registry_contract.h>

#include "etcd_server.h"
#include "micro/etcd/etcd.h"

namespace micro::testing {
namespace {

Result<std::shared_ptr<Registry>> MakeEtcd() {
  EtcdServer* etcd = SharedEtcd(nullptr);
  if (!etcd) return errors::InternalServerError("test", "no etcd");
  return etcd::NewRegistry({.addrs = {etcd->endpoint()}});
}

INSTANTIATE_TEST_SUITE_P(Etcd, RegistryContractTest,
                         ::testing::Values(RegistryContractParam{
                             .name = "etcd",
                             .make = MakeEtcd,
                             // A 300 ms TTL becomes etcd's minimum lease of 2 s.
                             .propagation = std::chrono::seconds(6),
                             .supports_ttl = true,
                             .make_fast_ttl = MakeEtcd,
                             .skip_reason =
                                 [] {
                                   std::string why;
                                   SharedEtcd(&why);
                                   return why;
                                 }}),
                         ContractName);

}  // namespace
}  // namespace micro::testing
