// The transport contract: what every Transport (memory, http, and plugins such as nats) must
// do, whatever carries the bytes. A value-parameterised GoogleTest suite, installed with the
// package: link `micro::contract_tests` into a test binary and instantiate
// TransportContractTest with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Nats, TransportContractTest, ::testing::Values(
//       TransportContractParam{.name = "nats", .make = [](TransportOptions o) {
//         return micro::nats::NewTransport(std::move(o)); }}),
//       micro::testing::TransportContractName);
#pragma once

#include <gtest/gtest.h>
#include <micro/transport.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace micro::testing {

struct TransportContractParam {
  std::string name{};
  // Makes a transport; the options carry what a test needs (timeout, executor); the factory
  // adds its own (e.g. server addresses).
  std::function<Result<std::shared_ptr<Transport>>(TransportOptions)> make{};
  std::string listen_addr = "127.0.0.1:0";
  // Largest body the transport carries (nats: the server's max_payload, after base64).
  std::size_t max_body = 8u << 20;
  int concurrent_connections = 1000;
  // Dial to a closed listener fails at Dial (http, memory) rather than at the first Recv.
  bool dial_checks_listener = true;
  // Non-empty: why this environment cannot run the suite (the tests are skipped).
  std::function<std::string()> skip_reason{};
};

inline void PrintTo(const TransportContractParam& param, std::ostream* os) { *os << param.name; }

inline std::string TransportContractName(
    const ::testing::TestParamInfo<TransportContractParam>& info) {
  return info.param.name;
}

class TransportContractTest : public ::testing::TestWithParam<TransportContractParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A transport made with o, and a listener on it running handler.
  void Serve(TransportOptions o, SocketHandler handler);
  std::shared_ptr<Transport> Make(TransportOptions o = {});

  std::shared_ptr<Transport> transport_{};
  std::shared_ptr<Listener> listener_{};
};

// Echoes every message back with its headers.
asio::awaitable<void> ContractEchoHandler(std::shared_ptr<Socket> s);

}  // namespace micro::testing
