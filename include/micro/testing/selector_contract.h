// The selector contract: what every Selector (the registry selector under each of its names,
// and yours) must do over a registry. A value-parameterised GoogleTest suite, installed with the
// package: link `micro::contract_tests` into a test binary and instantiate
// SelectorContractTest with a factory that wraps the registry it is given:
//
//   INSTANTIATE_TEST_SUITE_P(Shard, SelectorContractTest, ::testing::Values(
//       SelectorContractParam{.name = "shard", .make = [](std::shared_ptr<Registry> r) {
//         return my::NewShardSelector({.registry = std::move(r)}); }}),
//       micro::testing::SelectorContractName);
//
// The suite registers services in an in-memory registry (unique names per test), so it needs
// no server. Changes to the registry must reach Select within `propagation`.
#pragma once

#include <gtest/gtest.h>
#include <micro/registry.h>
#include <micro/selector.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace micro::testing {

struct SelectorContractParam {
  std::string name{};
  std::function<Result<std::shared_ptr<Selector>>(std::shared_ptr<Registry>)> make{};
  Duration propagation = std::chrono::seconds(3);
  // Mark with an error takes a node out of rotation (go-micro's selectors ignore marks).
  bool honours_marks = true;
};

inline void PrintTo(const SelectorContractParam& param, std::ostream* os) { *os << param.name; }

inline std::string SelectorContractName(
    const ::testing::TestParamInfo<SelectorContractParam>& info) {
  return info.param.name;
}

class SelectorContractTest : public ::testing::TestWithParam<SelectorContractParam> {
 protected:
  void SetUp() override;

  // A service name unique to this test, with `nodes` nodes of `version` registered.
  std::string Register(const std::string& version, int nodes, std::string label = "");
  // The node ids `n` calls of a fresh Select's Next return (errors fail the test).
  std::map<std::string, int> Picks(const std::string& service, int n,
                                   const SelectOptions& options = {});

  std::shared_ptr<Registry> registry_{};
  std::shared_ptr<Selector> selector_{};
  std::string service_{};
};

}  // namespace micro::testing
