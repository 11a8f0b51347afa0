// The shared transport contract, run against the built-in memory and HTTP transports.
#include <micro/testing/transport_contract.h>

namespace micro::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(
    BuiltIn, TransportContractTest,
    ::testing::Values(
        TransportContractParam{
            .name = "memory",
            .make = [](TransportOptions o) { return NewMemoryTransport(std::move(o)); }},
        TransportContractParam{
            .name = "http",
            .make = [](TransportOptions o) { return NewHttpTransport(std::move(o)); }}),
    TransportContractName);

}  // namespace
}  // namespace micro::testing
