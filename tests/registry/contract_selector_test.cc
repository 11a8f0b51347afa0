// The selector contract on every name of the selector table.
#include <micro/testing/selector_contract.h>

namespace micro::testing {
namespace {

SelectorContractParam FromTable(std::string name) {
  return {.name = name, .make = [name](std::shared_ptr<Registry> registry) {
            return Selectors().Create(name, SelectorOptions{.registry = std::move(registry)});
          }};
}

INSTANTIATE_TEST_SUITE_P(Table, SelectorContractTest,
                         ::testing::Values(FromTable("registry"), FromTable("random"),
                                           FromTable("roundrobin"), FromTable("p2c")),
                         SelectorContractName);

}  // namespace
}  // namespace micro::testing
