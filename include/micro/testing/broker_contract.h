// The broker contract: what every Broker implementation (memory, http, and the nats plugin)
// must do. A value-parameterised GoogleTest suite, installed with the package: link
// `micro::contract_tests` into a test binary and instantiate BrokerContractTest with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Nats, BrokerContractTest, ::testing::Values(BrokerContractParam{
//       .name = "nats", .make = [] { return micro::nats::NewBroker({...}); }}),
//       micro::testing::BrokerContractName);
//
// Brokers made by one param's `make` must reach each other (the memory broker's make returns
// one shared instance). Subscriptions may take a moment to become visible to publishers: the
// suite waits for them with a probe topic before it counts anything.
#pragma once

#include <gtest/gtest.h>
#include <micro/broker.h>

#include <functional>
#include <memory>
#include <string>

namespace micro::testing {

struct BrokerContractParam {
  std::string name{};
  std::function<Result<std::shared_ptr<Broker>>()> make{};
  int message_count = 10000;                             // for the counting tests (3 subscribers)
  Duration delivery_timeout = std::chrono::seconds(60);  // for all of them to arrive
  // Non-empty: why this environment cannot run the suite (the tests are skipped).
  std::function<std::string()> skip_reason{};
};

inline void PrintTo(const BrokerContractParam& param, std::ostream* os) { *os << param.name; }

inline std::string BrokerContractName(const ::testing::TestParamInfo<BrokerContractParam>& info) {
  return info.param.name;
}

class BrokerContractTest : public ::testing::TestWithParam<BrokerContractParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A connected broker from the param's factory (kept until TearDown).
  std::shared_ptr<Broker> Make();
  // A topic no other test uses.
  static std::string Unique(std::string_view base);
  // Waits until `publisher` reaches a fresh probe subscription on each of `subscribers`,
  // made after every earlier subscription (so those are visible to the publisher too).
  void WaitVisible(Broker& publisher, const std::vector<Broker*>& subscribers);

  std::vector<std::shared_ptr<Broker>> brokers_;
};

}  // namespace micro::testing
