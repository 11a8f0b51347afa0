// mDNS over real sockets. Every test here starts with "Mdns" and runs only inside a private
// network namespace (in_netns.sh via CTest); elsewhere it skips itself.
#include <gtest/gtest.h>
#include <micro/testing/registry_contract.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <asio.hpp>
#include <cstdlib>

#include "registry/go_micro_vectors.h"
#include "registry/mdns_records.h"
#include "registry/mdns_registry.h"
#include "registry/netns_guard.h"

extern char** environ;

namespace micro::testing {
namespace {

using namespace std::chrono_literals;
using asio::ip::udp;

Result<std::shared_ptr<Registry>> MdnsOn(std::vector<std::string> addrs) {
  RegistryOptions o;
  o.addrs = std::move(addrs);
  return NewMdnsRegistry(o);
}

INSTANTIATE_TEST_SUITE_P(Mdns, RegistryContractTest,
                         ::testing::Values(RegistryContractParam{.name = "pinned_lo",
                                                                 .make =
                                                                     [] { return MdnsOn({"lo"}); },
                                                                 .propagation = 3s,
                                                                 .supports_ttl = false,
                                                                 .make_fast_ttl = {},
                                                                 .skip_reason = NotInPrivateNetns,
                                                                 .not_found_is_empty = true},
                                           RegistryContractParam{.name = "default_route",
                                                                 .make = [] { return MdnsOn({}); },
                                                                 .propagation = 3s,
                                                                 .supports_ttl = false,
                                                                 .make_fast_ttl = {},
                                                                 .skip_reason = NotInPrivateNetns,
                                                                 .not_found_is_empty = true}),
                         ContractName);

class MdnsNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = NotInPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
    auto r = MdnsOn({"127.0.0.1"});
    ASSERT_TRUE(r.ok()) << r.error();
    reg_ = *r;
  }

  // A plain socket on the mDNS group, like another host's responder.
  static std::unique_ptr<udp::socket> GroupSocket(asio::io_context& io) {
    auto s = std::make_unique<udp::socket>(io, udp::v4());
    s->set_option(asio::socket_base::reuse_address(true));
    s->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    s->bind(udp::endpoint(asio::ip::address_v4::any(), 5353));
    const auto lo = asio::ip::make_address_v4("127.0.0.1");
    s->set_option(asio::ip::multicast::join_group(asio::ip::make_address_v4("224.0.0.251"), lo));
    s->set_option(asio::ip::multicast::outbound_interface(lo));
    return s;
  }

  static void SendToGroup(udp::socket& s, std::string_view bytes) {
    s.send_to(asio::buffer(bytes.data(), bytes.size()),
              udp::endpoint(asio::ip::make_address_v4("224.0.0.251"), 5353));
  }

  // Receives datagrams for up to `limit`, until pred(message) holds.
  static std::optional<dns::Message> ReceiveUntil(
      udp::socket& s, Duration limit, const std::function<bool(const dns::Message&)>& pred) {
    const auto deadline = Clock::now() + limit;
    s.non_blocking(true);
    std::vector<uint8_t> buf(65536);
    while (Clock::now() < deadline) {
      udp::endpoint from;
      std::error_code ec;
      size_t n = s.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      if (ec) return std::nullopt;
      auto m = dns::Decode(std::span<const uint8_t>(buf.data(), n));
      if (m.ok() && pred(*m)) return *m;
    }
    return std::nullopt;
  }

  static registry::Service Greeter(const std::string& id, int port) {
    registry::Service s;
    s.name = "greeter";
    s.version = "latest";
    auto txt = registry::MdnsTxtFromJson(kCapturedTxtJson);
    s.endpoints = txt->endpoints;
    registry::Node n;
    n.id = id;
    n.address = fmt::format("127.0.0.1:{}", port);
    n.metadata = txt->metadata;
    s.nodes.push_back(n);
    return s;
  }

  std::shared_ptr<Registry> reg_;
};

// A go-micro node announcing itself (the captured records) is seen by Watch and GetService
// sees nothing stale after its goodbye.
TEST_F(MdnsNetTest, WatchDecodesAGoMicroAnnouncementAndGoodbye) {
  auto w = reg_->Watch({.service = "greeter"});
  ASSERT_TRUE(w.ok());
  asio::io_context io;
  auto peer = GroupSocket(io);
  auto packet = [&](uint32_t ttl) {
    dns::Message m;
    m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
    dns::Record srv, a, txt;
    srv.name = txt.name = std::string(kCapturedInstance);
    srv.type = dns::kTypeSrv;
    srv.priority = 10;
    srv.weight = 1;
    srv.port = 18080;
    srv.target = "vm.";
    a.name = "vm.";
    a.type = dns::kTypeA;
    a.address = {127, 0, 0, 1};
    txt.type = dns::kTypeTxt;
    txt.txt = mdns::EncodeTxt(*registry::MdnsTxtFromJson(kCapturedTxtJson));
    srv.ttl = a.ttl = txt.ttl = ttl;
    m.answers = {srv, a, txt};
    return *dns::Encode(m);
  };
  SendToGroup(*peer, packet(120));
  auto ev = (*w)->Next(2s);
  ASSERT_TRUE(ev.ok()) << ev.error();
  EXPECT_EQ(ev->type, registry::EventType::kCreate);
  EXPECT_EQ(ev->service.version, "latest");
  ASSERT_EQ(ev->service.nodes.size(), 1u);
  EXPECT_EQ(ev->service.nodes[0].id, kCapturedNodeId);
  EXPECT_EQ(ev->service.nodes[0].address, "127.0.0.1:18080");
  EXPECT_EQ(ev->service.nodes[0].metadata.at("server"), "mucp");
  ASSERT_EQ(ev->service.endpoints.size(), 1u);
  EXPECT_EQ(ev->service.endpoints[0].name, "Greeter.Hello");

  SendToGroup(*peer, packet(0));
  ev = (*w)->Next(2s);
  ASSERT_TRUE(ev.ok()) << ev.error();
  EXPECT_EQ(ev->type, registry::EventType::kDelete);
  EXPECT_EQ(ev->service.nodes[0].id, kCapturedNodeId);
}

// What a go-micro client sees when it asks for "greeter.micro." from an ephemeral port.
TEST_F(MdnsNetTest, AnswersAGoMicroStyleQueryWithPtrSrvTxtA) {
  ASSERT_TRUE(reg_->Register(Greeter("greeter-1", 18080)).ok());
  asio::io_context io;
  udp::socket client(io, udp::endpoint(asio::ip::address_v4::any(), 0));
  client.set_option(
      asio::ip::multicast::outbound_interface(asio::ip::make_address_v4("127.0.0.1")));
  dns::Message q;
  q.id = 0xe418;
  q.questions.push_back({.name = "greeter.micro.", .type = dns::kTypePtr});
  SendToGroup(client, *dns::Encode(q));
  auto reply = ReceiveUntil(client, 2s, [](const dns::Message& m) { return m.IsResponse(); });
  ASSERT_TRUE(reply.has_value());
  std::map<uint16_t, dns::Record> by_type;
  for (const auto& r : reply->answers) by_type[r.type] = r;
  ASSERT_EQ(by_type.count(dns::kTypePtr), 1u);
  EXPECT_EQ(by_type[dns::kTypePtr].target, "greeter-1.greeter.micro.");
  EXPECT_EQ(by_type[dns::kTypeSrv].port, 18080);
  EXPECT_EQ(by_type[dns::kTypeSrv].ttl, 120u);
  EXPECT_EQ(by_type[dns::kTypeA].address[0], 127);
  for (const auto& s : by_type[dns::kTypeTxt].txt) EXPECT_LE(s.size(), 255u);
  auto txt = mdns::DecodeTxt(by_type[dns::kTypeTxt].txt);
  ASSERT_TRUE(txt.ok());
  EXPECT_EQ(registry::MdnsTxtJson(*txt), kCapturedTxtJson);
  ASSERT_TRUE(reg_->Deregister(Greeter("greeter-1", 18080)).ok());
}

TEST_F(MdnsNetTest, AnnouncesThenSaysGoodbyeWithTtlZero) {
  asio::io_context io;
  auto listener = GroupSocket(io);
  ASSERT_TRUE(reg_->Register(Greeter("greeter-2", 18081)).ok());
  auto hello = ReceiveUntil(*listener, 2s, [](const dns::Message& m) {
    for (const auto& e : mdns::Entries(m)) {
      if (e.name == "greeter-2.greeter.micro." && e.ttl == 120) return true;
    }
    return false;
  });
  EXPECT_TRUE(hello.has_value());
  ASSERT_TRUE(reg_->Deregister(Greeter("greeter-2", 18081)).ok());
  auto bye = ReceiveUntil(*listener, 2s, [](const dns::Message& m) {
    for (const auto& e : mdns::Entries(m)) {
      if (e.name == "greeter-2.greeter.micro." && e.ttl == 0) return true;
    }
    return false;
  });
  EXPECT_TRUE(bye.has_value());
}

TEST_F(MdnsNetTest, MalformedPacketsAreDroppedAndCounted) {
  asio::io_context io;
  auto peer = GroupSocket(io);
  const auto before = mdns::GetStats(*reg_)->malformed;
  SendToGroup(*peer, "\x01\x02\x03");
  SendToGroup(*peer, std::string("\0\0\x84\0\0\0\0\x01\0\0\0\0\xC0\x0C", 14));  // pointer loop
  SendToGroup(*peer, std::string(12, '\xff'));
  const auto deadline = Clock::now() + 2s;
  while (mdns::GetStats(*reg_)->malformed < before + 3 && Clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(mdns::GetStats(*reg_)->malformed, before + 3);
  // Still working.
  ASSERT_TRUE(reg_->Register(Greeter("greeter-3", 18082)).ok());
  auto r = reg_->GetService("greeter");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->empty());
  ASSERT_TRUE(reg_->Deregister(Greeter("greeter-3", 18082)).ok());
}

TEST_F(MdnsNetTest, SelectedThroughTheTableWithRegistryAddress) {
  auto r = Registries().Create("mdns", {.addrs = {"lo, 127.0.0.1"}});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->String(), "mdns");
  EXPECT_TRUE(mdns::GetStats(**r).has_value());
  EXPECT_FALSE(mdns::GetStats(**NewMemoryRegistry()).has_value());
}

TEST_F(MdnsNetTest, InterfaceFromMicroRegistryAddressWhenNoneGiven) {
  setenv("MICRO_REGISTRY_ADDRESS", "no-such-if0", 1);
  auto bad = NewMdnsRegistry();
  setenv("MICRO_REGISTRY_ADDRESS", "lo", 1);
  auto good = NewMdnsRegistry();
  auto explicit_wins = MdnsOn({"127.0.0.1"});
  unsetenv("MICRO_REGISTRY_ADDRESS");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find("no-such-if0"), std::string::npos);
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_TRUE(explicit_wins.ok());
}

TEST_F(MdnsNetTest, TwoRegistriesInOneProcessSeeEachOther) {
  auto other = MdnsOn({"lo"});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(reg_->Register(Greeter("greeter-4", 18083)).ok());
  ASSERT_TRUE((*other)->Register(Greeter("greeter-5", 18084)).ok());
  size_t nodes = 0;
  for (int i = 0; i < 20 && nodes != 2; ++i) {
    auto r = reg_->GetService("greeter");
    nodes = r.ok() && !r->empty() ? r->front().nodes.size() : 0;
  }
  EXPECT_EQ(nodes, 2u);
  ASSERT_TRUE(reg_->Deregister(Greeter("greeter-4", 18083)).ok());
  ASSERT_TRUE((*other)->Deregister(Greeter("greeter-5", 18084)).ok());
}

// The child half of MdnsNetTest.TwoProcessesFindEachOther: registers "peer-child" and waits
// until it sees "peer-parent". Skipped unless the parent started it.
TEST_F(MdnsNetTest, ChildProcessHelper) {
  if (!std::getenv("MICRO_MDNS_CHILD")) GTEST_SKIP() << "only run by TwoProcessesFindEachOther";
  registry::Service me;
  me.name = "peer-child";
  me.version = "1";
  registry::Node n;
  n.id = fmt::format("peer-child-{}", getpid());
  n.address = "127.0.0.1:20002";
  me.nodes.push_back(n);
  ASSERT_TRUE(reg_->Register(me).ok());
  bool found = false;
  const auto deadline = Clock::now() + 10s;
  while (!found && Clock::now() < deadline) {
    auto r = reg_->GetService("peer-parent");
    found = r.ok() && !r->empty();
  }
  EXPECT_TRUE(found);
  // Stay discoverable a little longer so the parent's lookup finds us too.
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(reg_->Deregister(me).ok());
}

TEST_F(MdnsNetTest, TwoProcessesFindEachOther) {
  registry::Service me;
  me.name = "peer-parent";
  me.version = "1";
  registry::Node n;
  n.id = fmt::format("peer-parent-{}", getpid());
  n.address = "127.0.0.1:20001";
  me.nodes.push_back(n);
  ASSERT_TRUE(reg_->Register(me).ok());

  // The same test binary, in the same network namespace, running the child helper.
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=MdnsNetTest.ChildProcessHelper";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  std::vector<std::string> env_strings = {"MICRO_MDNS_CHILD=1"};
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, exe.c_str(), nullptr, nullptr, argv, envp.data()), 0);

  std::optional<registry::Node> seen;
  const auto deadline = Clock::now() + 10s;
  while (!seen && Clock::now() < deadline) {
    auto r = reg_->GetService("peer-child");
    if (r.ok() && !r->empty()) seen = r->front().nodes.front();
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->id, fmt::format("peer-child-{}", child));
  EXPECT_EQ(seen->address, "127.0.0.1:20002");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  ASSERT_TRUE(reg_->Deregister(me).ok());
}

}  // namespace
}  // namespace micro::testing

namespace micro::testing {
namespace {

// Polls reg for name until it has a node (or 3 s pass).
size_t MdnsNodesOf(Registry& reg, const std::string& name) {
  const auto deadline = Clock::now() + 3s;
  for (;;) {
    auto r = reg.GetService(name);
    size_t n = 0;
    if (r.ok()) {
      for (const auto& s : *r) n += s.nodes.size();
    }
    if (n > 0 || Clock::now() > deadline) return n;
  }
}

registry::Service MdnsPeer(const std::string& name, int port) {
  registry::Service s{.name = name, .version = "1"};
  s.nodes.push_back({.id = name + "-1", .address = fmt::format("127.0.0.1:{}", port)});
  return s;
}

// A lookup that hears nothing answers an empty list, as go-micro's mdns registry (not 404).
TEST(MdnsInterfacesTest, LookupThatFindsNothingIsAnEmptyList) {
  if (std::string why = NotInPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  auto reg = MdnsOn({"lo"});
  ASSERT_TRUE(reg.ok()) << reg.error();
  auto r = (*reg)->GetService("nobody-here");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->empty());
}

// Not pinned, the registry joins the group on every multicast-capable interface: here lo and a
// veth made for the test; pinned, only on the one given. Both find each other's services.
TEST(MdnsInterfacesTest, UnpinnedRegistryUsesEveryMulticastInterface) {
  if (std::string why = NotInPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  if (std::system("ip link add mdnsv0 type veth peer name mdnsv1 2>/dev/null") != 0) {
    GTEST_SKIP() << "cannot create a veth pair in this namespace";
  }
  ASSERT_EQ(std::system("ip addr add 10.77.0.1/24 dev mdnsv0 && ip addr add 10.77.0.2/24 dev "
                        "mdnsv1 && ip link set mdnsv0 up multicast on && ip link set mdnsv1 up "
                        "multicast on"),
            0);
  auto all = MdnsOn({});
  auto pinned = MdnsOn({"mdnsv0"});
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_TRUE(pinned.ok()) << pinned.error();
  auto stats = mdns::GetStats(**all);
  ASSERT_TRUE(stats.has_value());
  auto joined = [&](const std::string& a) {
    return std::find(stats->ipv4_interfaces.begin(), stats->ipv4_interfaces.end(), a) !=
           stats->ipv4_interfaces.end();
  };
  EXPECT_TRUE(joined("127.0.0.1"));
  EXPECT_TRUE(joined("10.77.0.1"));
  EXPECT_TRUE(joined("10.77.0.2"));
  EXPECT_EQ(mdns::GetStats(**pinned)->ipv4_interfaces, std::vector<std::string>{"10.77.0.1"});

  ASSERT_TRUE((*pinned)->Register(MdnsPeer("on-veth", 18301)).ok());
  ASSERT_TRUE((*all)->Register(MdnsPeer("everywhere", 18302)).ok());
  EXPECT_EQ(MdnsNodesOf(**all, "on-veth"), 1u);
  EXPECT_EQ(MdnsNodesOf(**pinned, "everywhere"), 1u);
  (void)(*pinned)->Deregister(MdnsPeer("on-veth", 18301));
  (void)(*all)->Deregister(MdnsPeer("everywhere", 18302));
  (void)std::system("ip link del mdnsv0 2>/dev/null");
}

// IPv6 beside IPv4: ff02::fb joined on every interface with IPv6. Linux does not loop IPv6
// multicast back through lo, so the test makes a veth pair (link-local addresses, no DAD wait).
// Two registries with IPv4 turned off find each other over IPv6 alone; a default one opens both
// groups and hears them too.
TEST(MdnsInterfacesTest, Ipv6GroupBesideIpv4) {
  if (std::string why = NotInPrivateNetns(); !why.empty()) GTEST_SKIP() << why;
  (void)std::system("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0");
  if (std::system("ip link add mdns6a type veth peer name mdns6b 2>/dev/null") != 0) {
    GTEST_SKIP() << "cannot create a veth pair in this namespace";
  }
  ASSERT_EQ(std::system("ip link set mdns6a up && ip link set mdns6b up"), 0);
  if (std::system("ip -6 addr show dev mdns6a | grep -q fe80") != 0) {
    (void)std::system("ip link del mdns6a 2>/dev/null");
    GTEST_SKIP() << "no IPv6 in this kernel";
  }
  auto both = MdnsOn({});
  ASSERT_TRUE(both.ok()) << both.error();
  EXPECT_TRUE(mdns::GetStats(**both)->ipv4);
  EXPECT_TRUE(mdns::GetStats(**both)->ipv6);

  RegistryOptions v6only{.params = {{"mdns.ipv4", "false"}}};
  auto a = NewMdnsRegistry(v6only);
  auto b = NewMdnsRegistry(v6only);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  auto st = mdns::GetStats(**a);
  EXPECT_FALSE(st->ipv4);
  EXPECT_TRUE(st->ipv6);
  const unsigned veth = if_nametoindex("mdns6a");
  EXPECT_NE(std::find(st->ipv6_interfaces.begin(), st->ipv6_interfaces.end(), veth),
            st->ipv6_interfaces.end());
  ASSERT_TRUE((*a)->Register(MdnsPeer("over-v6", 18303)).ok());
  EXPECT_EQ(MdnsNodesOf(**b, "over-v6"), 1u);
  EXPECT_EQ(MdnsNodesOf(**both, "over-v6"), 1u);
  (void)(*a)->Deregister(MdnsPeer("over-v6", 18303));
  (void)std::system("ip link del mdns6a 2>/dev/null");
}

}  // namespace
}  // namespace micro::testing
