// The installed contract suite (micro::contract_tests) run on the file registry, plus what is
// particular to it: files that other processes share, escaping, and files it must skip.
#include <gtest/gtest.h>
#include <micro/file/file.h>
#include <micro/testing/registry_contract.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {
namespace fs = std::filesystem;

// A fresh directory per test binary run, removed at exit.
const fs::path& Root() {
  static const fs::path root = [] {
    std::string tmpl = (fs::temp_directory_path() / "micro-file-test-XXXXXX").string();
    const char* made = mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    return fs::path(tmpl);
  }();
  return root;
}

struct RemoveRootAtExit : ::testing::Environment {
  void TearDown() override { fs::remove_all(Root()); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new RemoveRootAtExit);

micro::Result<std::shared_ptr<micro::Registry>> MakeFile() {
  return micro::file::NewRegistry({.addrs = {Root().string()}, .params = {{"file.poll_ms", "20"}}});
}

using micro::testing::RegistryContractParam;
using micro::testing::RegistryContractTest;

// The suite's name must be unqualified: hence the using-declarations above.
INSTANTIATE_TEST_SUITE_P(
    File, RegistryContractTest,
    ::testing::Values(RegistryContractParam{
        .name = "file", .make = MakeFile, .supports_ttl = true, .make_fast_ttl = MakeFile}),
    micro::testing::ContractName);

micro::registry::Service Greeter(const std::string& node_id) {
  return {.name = "go.micro.srv.greeter",
          .version = "latest",
          .nodes = {{.id = node_id, .address = "127.0.0.1:9090"}}};
}

TEST(FileRegistry, TwoRegistriesOnOneDirectorySeeEachOther) {
  const fs::path dir = Root() / "shared";
  auto a = micro::file::NewRegistry({.addrs = {dir.string()}});
  auto b = micro::file::NewRegistry({.addrs = {dir.string()}});
  ASSERT_TRUE(a.ok() && b.ok());
  auto watch = (*b)->Watch({.service = "go.micro.srv.greeter"});
  ASSERT_TRUE(watch.ok());
  ASSERT_TRUE((*a)->Register(Greeter("n1")).ok());
  auto found = (*b)->GetService("go.micro.srv.greeter");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].nodes.at(0).address, "127.0.0.1:9090");
  auto ev = (*watch)->Next(std::chrono::seconds(5));
  ASSERT_TRUE(ev.ok()) << ev.error();
  EXPECT_EQ(ev->type, micro::registry::EventType::kCreate);
  EXPECT_TRUE(fs::exists(dir / "go.micro.srv.greeter" / "n1.json"));
  ASSERT_TRUE((*a)->Deregister(Greeter("n1")).ok());
  EXPECT_FALSE(fs::exists(dir / "go.micro.srv.greeter"));  // the empty folder goes too
}

TEST(FileRegistry, NamesCannotEscapeTheDirectory) {
  const fs::path dir = Root() / "escape";
  auto reg = micro::file::NewRegistry({.addrs = {dir.string()}});
  ASSERT_TRUE(reg.ok());
  auto evil = Greeter("../../etc/passwd");
  evil.name = "../up";
  ASSERT_TRUE((*reg)->Register(evil).ok());
  EXPECT_TRUE(fs::exists(dir / "%2E.%2Fup" / "%2E.%2F..%2Fetc%2Fpasswd.json"));
  auto found = (*reg)->GetService("../up");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->at(0).nodes.at(0).id, "../../etc/passwd");
}

TEST(FileRegistry, MalformedAndForeignFilesAreSkipped) {
  const fs::path dir = Root() / "junk";
  auto reg = micro::file::NewRegistry({.addrs = {dir.string()}});
  ASSERT_TRUE(reg.ok());
  ASSERT_TRUE((*reg)->Register(Greeter("good")).ok());
  std::ofstream(dir / "go.micro.srv.greeter" / "bad.json") << "{not json";
  std::ofstream(dir / "go.micro.srv.greeter" / "empty.json");
  std::ofstream(dir / "go.micro.srv.greeter" / "notes.txt") << "hello";
  std::ofstream(dir / "go.micro.srv.greeter" / "two.json") << R"({"service":{"name":"x"}})";
  auto found = (*reg)->GetService("go.micro.srv.greeter");
  ASSERT_TRUE(found.ok()) << found.error();
  ASSERT_EQ(found->size(), 1u);
  ASSERT_EQ(found->at(0).nodes.size(), 1u);
  EXPECT_EQ(found->at(0).nodes[0].id, "good");
}

TEST(FileRegistry, BadOptionsAreClearErrors) {
  auto poll =
      micro::file::NewRegistry({.addrs = {Root().string()}, .params = {{"file.poll_ms", "x"}}});
  ASSERT_FALSE(poll.ok());
  EXPECT_EQ(poll.error().code, 400);
  auto dir = micro::file::NewRegistry({.addrs = {"/proc/version/registry"}});
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, 500);
  EXPECT_NE(dir.error().detail.find("/proc/version/registry"), std::string::npos);
}

}  // namespace
