// The selector contract's tests (see <micro/testing/selector_contract.h>).
#include <micro/testing/selector_contract.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace micro::testing {

void SelectorContractTest::SetUp() {
  static std::atomic<int> counter{0};
  service_ = fmt::format("contract-selector-{}-{}", getpid(), counter++);
  registry_ = *NewMemoryRegistry();
  auto made = GetParam().make(registry_);
  ASSERT_TRUE(made.ok()) << made.error();
  selector_ = *made;
}

std::string SelectorContractTest::Register(const std::string& version, int nodes,
                                           std::string label) {
  registry::Service s{.name = service_, .version = version};
  for (int i = 0; i < nodes; ++i) {
    s.nodes.push_back({.id = fmt::format("{}-v{}-{}", service_, version, i),
                       .address = fmt::format("127.0.0.1:{}", 20000 + i),
                       .metadata = {{"label", label}}});
  }
  EXPECT_TRUE(registry_->Register(s).ok());
  return service_;
}

std::map<std::string, int> SelectorContractTest::Picks(const std::string& service, int n,
                                                       const SelectOptions& options) {
  std::map<std::string, int> seen;
  auto next = selector_->Select(service, options);
  EXPECT_TRUE(next.ok()) << next.error();
  if (!next.ok()) return seen;
  for (int i = 0; i < n; ++i) {
    auto node = (*next)();
    EXPECT_TRUE(node.ok()) << node.error();
    if (node.ok()) seen[node->id]++;
  }
  return seen;
}

namespace {

// Polls until pred holds or the propagation time has passed.
bool Within(Duration limit, const std::function<bool()>& pred) {
  const auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

TEST_P(SelectorContractTest, UnknownServiceIs404) {
  auto next = selector_->Select("contract-selector-nobody");
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, 404);
}

TEST_P(SelectorContractTest, NextReturnsEveryRegisteredNodeAndNothingElse) {
  const auto service = Register("1", 3);
  auto seen = Picks(service, 300);
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& [id, count] : seen) {
    EXPECT_EQ(id.rfind(service + "-v1-", 0), 0u) << id;
    EXPECT_GT(count, 0);
  }
}

TEST_P(SelectorContractTest, FiltersNarrowTheNodes) {
  Register("1", 2, "blue");
  const auto service = Register("2", 2, "green");
  for (const auto& [id, count] : Picks(service, 100, {.filters = {selector::FilterVersion("2")}})) {
    EXPECT_NE(id.find("-v2-"), std::string::npos) << id;
  }
  for (const auto& [id, count] :
       Picks(service, 100, {.filters = {selector::FilterLabel("label", "blue")}})) {
    EXPECT_NE(id.find("-v1-"), std::string::npos) << id;
  }
  auto none = selector_->Select(service, {.filters = {selector::FilterVersion("3")}});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, 500);
}

TEST_P(SelectorContractTest, MarkedNodeLeavesRotationAndOkBringsItBack) {
  if (!GetParam().honours_marks) GTEST_SKIP() << "this selector ignores marks";
  const auto service = Register("1", 2);
  auto next = selector_->Select(service);
  ASSERT_TRUE(next.ok());
  auto bad = (*next)();
  ASSERT_TRUE(bad.ok());
  selector_->Mark(service, **bad, errors::InternalServerError("contract", "refused"));
  auto seen = Picks(service, 100);
  EXPECT_EQ(seen.count(bad->id), 0u);
  selector_->Mark(service, **bad, Status{});
  EXPECT_EQ(Picks(service, 200).size(), 2u);
}

TEST_P(SelectorContractTest, EveryNodeMarkedStillAnswers) {
  const auto service = Register("1", 2);
  auto next = selector_->Select(service);
  ASSERT_TRUE(next.ok());
  for (int i = 0; i < 20; ++i) {
    auto node = (*next)();
    ASSERT_TRUE(node.ok());
    selector_->Mark(service, **node, errors::InternalServerError("contract", "down"));
  }
  EXPECT_FALSE(Picks(service, 10).empty());
  selector_->Reset(service);
  EXPECT_EQ(Picks(service, 200).size(), 2u);
}

TEST_P(SelectorContractTest, RegistryChangesReachSelect) {
  const auto service = Register("1", 1);
  EXPECT_EQ(Picks(service, 10).size(), 1u);
  Register("1", 3);  // two more nodes of the same version
  EXPECT_TRUE(Within(GetParam().propagation, [&] { return Picks(service, 100).size() == 3u; }));
  auto all = registry_->GetService(service);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(registry_->Deregister((*all)[0]).ok());
  EXPECT_TRUE(Within(GetParam().propagation, [&] { return !selector_->Select(service).ok(); }));
}

TEST_P(SelectorContractTest, ConcurrentSelectNextAndMarkAreSafe) {
  const auto service = Register("1", 4);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto next = selector_->Select(service);
        if (!next.ok()) {
          ++failures;
          continue;
        }
        auto node = (*next)();
        if (!node.ok()) {
          ++failures;
          continue;
        }
        if (t == 0 && i % 50 == 0) {
          selector_->Mark(service, **node, errors::InternalServerError("contract", "flaky"));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// A test binary may instantiate only some of the suites of micro::contract_tests.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SelectorContractTest);

}  // namespace micro::testing

// Pulls this file's tests out of the static library into every test binary that links it
// (the library's link interface names the symbol: see src/testing/CMakeLists.txt).
extern "C" {
extern const int micro_contract_anchor_selector;
const int micro_contract_anchor_selector = 1;
}
