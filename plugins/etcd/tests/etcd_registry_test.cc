// etcd-specific behaviour against a real etcd: go-micro's key/value layout read back raw over
// the gateway, leases, keep-alive, watch event kinds, auth, endpoint failover and restarts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "etcd_server.h"
#include "gateway.h"
#include "micro/etcd/etcd.h"

namespace micro::testing {
namespace {

using namespace std::chrono_literals;
using etcd_detail::Base64Decode;
using etcd_detail::Base64Encode;
using etcd_detail::Int;
using etcd_detail::Json;

std::string Unique(std::string_view base) {
  static std::atomic<int> n{0};
  return fmt::format("{}-{}-{}", base, getpid(), n++);
}

registry::Service MakeService(const std::string& name, const std::string& node, int port,
                              std::string version = "1.0.0") {
  registry::Service s{.name = name, .version = std::move(version)};
  s.metadata = {{"owner", "tests"}};
  s.endpoints.push_back({.name = "Greeter.Hello",
                         .request = registry::Value{"Request", "Request", {}},
                         .response = registry::Value{"Response", "Response", {}}});
  s.nodes.push_back({.id = node,
                     .address = fmt::format("127.0.0.1:{}", port),
                     .metadata = {{"protocol", "mucp"}}});
  return s;
}

// Raw gateway calls, to check what the registry wrote.
Json Raw(const std::string& endpoint, const std::string& path, const Json& body,
         const std::string& token = "") {
  http::Client client;
  http::Request req{.method = "POST", .target = path, .body = body.dump()};
  if (!token.empty()) req.header.Set("Authorization", token);
  auto r = client.SendSync(endpoint, req);
  if (!r) return Json{{"client_error", r.error().detail}};
  Json j = Json::parse(r->body, nullptr, false);
  if (r->status != 200) j["http_status"] = r->status;
  return j;
}

// The one key of a service's node, as stored.
Json RawKey(const std::string& endpoint, const std::string& key) {
  Json r = Raw(endpoint, "/v3/kv/range", {{"key", Base64Encode(key)}});
  if (!r.contains("kvs") || r["kvs"].empty()) return Json();
  return r["kvs"][0];
}

// The next event of the given type for name within limit.
Result<registry::Event> NextEvent(registry::Watcher& w, const std::string& name,
                                  registry::EventType type, Duration limit = 6s) {
  const auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    auto ev = w.Next(100ms);
    if (!ev) {
      if (ev.error().code == 408) continue;
      return ev;
    }
    if (ev->service.name == name && ev->type == type) return ev;
  }
  return errors::Timeout("test", "no {} event for {}", registry::ToString(type), name);
}

class EtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    etcd_ = SharedEtcd(&why);
    if (!etcd_) GTEST_SKIP() << why;
    auto r = etcd::NewRegistry({.addrs = {etcd_->endpoint()}});
    ASSERT_TRUE(r.ok()) << r.error();
    reg_ = *r;
  }
  EtcdServer* etcd_ = nullptr;
  std::shared_ptr<Registry> reg_;
};

TEST_F(EtcdTest, NameIsRegisteredWhenLinked) {
  EXPECT_TRUE(Registries().Has("etcd"));
  auto r = Registries().Create("etcd", {.addrs = {etcd_->endpoint()}});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)->String(), "etcd");
}

TEST_F(EtcdTest, GoMicroKeyAndValueLayout) {
  const std::string name = Unique("layout");
  registry::Service svc = MakeService(name, name + "-node/1", 9001);
  svc.nodes.push_back({.id = name + "-node-2", .address = "127.0.0.1:9002"});
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 1s}).ok());
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& node = svc.nodes[i];
    std::string id = node.id;
    std::replace(id.begin(), id.end(), '/', '-');
    Json kv = RawKey(etcd_->endpoint(), "/micro/registry/" + name + "/" + id);
    ASSERT_TRUE(kv.is_object()) << "no key for " << node.id;
    std::string value;
    ASSERT_TRUE(Base64Decode(kv["value"].get<std::string>(), &value));
    registry::Service one = svc;
    one.nodes = {node};
    EXPECT_EQ(value, registry::ToJson(one));  // exactly one node per key, go-micro's JSON
    const int64_t lease = Int(kv, "lease");
    ASSERT_NE(lease, 0);
    Json ttl = Raw(etcd_->endpoint(), "/v3/lease/timetolive", {{"ID", std::to_string(lease)}});
    EXPECT_EQ(Int(ttl, "grantedTTL"), 2) << ttl.dump();  // 1 s is raised to etcd's minimum
  }
  // Without a TTL: a plain key.
  const std::string plain = Unique("plain");
  ASSERT_TRUE(reg_->Register(MakeService(plain, "p1", 9003)).ok());
  Json kv = RawKey(etcd_->endpoint(), "/micro/registry/" + plain + "/p1");
  ASSERT_TRUE(kv.is_object());
  EXPECT_EQ(Int(kv, "lease"), 0);
  ASSERT_TRUE(reg_->Deregister(svc).ok());
  ASSERT_TRUE(reg_->Deregister(MakeService(plain, "p1", 9003)).ok());
  EXPECT_FALSE(RawKey(etcd_->endpoint(), "/micro/registry/" + plain + "/p1").is_object());
}

TEST_F(EtcdTest, ReadsServicesWrittenByOthersInGoMicroLayout) {
  // A go-micro service registered by someone else: its JSON under the same key layout.
  const std::string name = Unique("foreign");
  const std::string json = "{\"name\":\"" + name +
                           "\",\"version\":\"latest\",\"metadata\":null,\"endpoints\":null,"
                           "\"nodes\":[{\"metadata\":null,\"id\":\"" +
                           name + "-x\",\"address\":\"10.0.0.1:8080\"}]}";
  Raw(etcd_->endpoint(), "/v3/kv/put",
      {{"key", Base64Encode("/micro/registry/" + name + "/" + name + "-x")},
       {"value", Base64Encode(json)}});
  auto got = reg_->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].version, "latest");
  ASSERT_EQ((*got)[0].nodes.size(), 1u);
  EXPECT_EQ((*got)[0].nodes[0].address, "10.0.0.1:8080");
  ASSERT_TRUE(reg_->Deregister(got->front()).ok());
}

TEST_F(EtcdTest, LeaseExpiresWhenNotReRegistered) {
  const std::string name = Unique("expiry");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg_->Register(MakeService(name, name + "-a", 9010), {.ttl = 2s}).ok());
  ASSERT_TRUE(reg_->GetService(name).ok());
  const auto start = Clock::now();
  auto gone = NextEvent(**w, name, registry::EventType::kDelete, 8s);
  ASSERT_TRUE(gone.ok()) << gone.error();
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 1500ms);
  EXPECT_LT(took, 6s);
  ASSERT_EQ(gone->service.nodes.size(), 1u);  // the deleted service, from the previous value
  EXPECT_EQ(gone->service.nodes[0].address, "127.0.0.1:9010");
  auto r = reg_->GetService(name);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(registry::IsNotFound(r.error()));
}

TEST_F(EtcdTest, ReRegisterKeepsTheLeaseAlive) {
  const std::string name = Unique("alive");
  auto svc = MakeService(name, name + "-a", 9020);
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 2s}).ok());
  const std::string key = "/micro/registry/" + name + "/" + name + "-a";
  const int64_t lease = Int(RawKey(etcd_->endpoint(), key), "lease");
  ASSERT_NE(lease, 0);
  const int64_t revision = Int(RawKey(etcd_->endpoint(), key), "mod_revision");
  for (int i = 0; i < 7; ++i) {  // 3.5 s, well past the 2 s TTL
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(reg_->Register(svc, {.ttl = 2s}).ok());
  }
  Json kv = RawKey(etcd_->endpoint(), key);
  ASSERT_TRUE(kv.is_object());
  EXPECT_EQ(Int(kv, "lease"), lease);            // kept alive, not re-granted
  EXPECT_EQ(Int(kv, "mod_revision"), revision);  // unchanged node: no rewrite
  ASSERT_TRUE(reg_->Deregister(svc).ok());
  Json ttl = Raw(etcd_->endpoint(), "/v3/lease/timetolive", {{"ID", std::to_string(lease)}});
  EXPECT_EQ(Int(ttl, "TTL"), -1) << ttl.dump();  // Deregister revoked the lease
}

TEST_F(EtcdTest, LostLeaseIsReplacedOnNextRegister) {
  const std::string name = Unique("lost");
  auto svc = MakeService(name, name + "-a", 9030);
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 10s}).ok());
  const std::string key = "/micro/registry/" + name + "/" + name + "-a";
  const int64_t lease = Int(RawKey(etcd_->endpoint(), key), "lease");
  Raw(etcd_->endpoint(), "/v3/lease/revoke", {{"ID", std::to_string(lease)}});
  ASSERT_FALSE(RawKey(etcd_->endpoint(), key).is_object());
  ASSERT_TRUE(reg_->Register(svc, {.ttl = 10s}).ok());  // the registrar's next interval
  Json kv = RawKey(etcd_->endpoint(), key);
  ASSERT_TRUE(kv.is_object());
  EXPECT_NE(Int(kv, "lease"), lease);
  EXPECT_TRUE(reg_->GetService(name).ok());
  ASSERT_TRUE(reg_->Deregister(svc).ok());
}

TEST_F(EtcdTest, WatchReportsCreateUpdateDelete) {
  const std::string name = Unique("events");
  auto w = reg_->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  auto svc = MakeService(name, name + "-a", 9040);
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto created = NextEvent(**w, name, registry::EventType::kCreate);
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created->service, svc);
  svc.nodes[0].metadata["weight"] = "5";
  ASSERT_TRUE(reg_->Register(svc).ok());
  auto updated = NextEvent(**w, name, registry::EventType::kUpdate);
  ASSERT_TRUE(updated.ok()) << updated.error();
  EXPECT_EQ(updated->service.nodes.at(0).metadata.at("weight"), "5");
  ASSERT_TRUE(reg_->Deregister(svc).ok());
  auto deleted = NextEvent(**w, name, registry::EventType::kDelete);
  ASSERT_TRUE(deleted.ok()) << deleted.error();
  EXPECT_EQ(deleted->service, svc);
}

TEST_F(EtcdTest, WatchAllServicesSeesEveryName) {
  const std::string a = Unique("all-a");
  const std::string b = Unique("all-b");
  auto w = reg_->Watch();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(reg_->Register(MakeService(a, a + "-1", 9050)).ok());
  ASSERT_TRUE(reg_->Register(MakeService(b, b + "-1", 9051)).ok());
  EXPECT_TRUE(NextEvent(**w, a, registry::EventType::kCreate).ok());
  EXPECT_TRUE(NextEvent(**w, b, registry::EventType::kCreate).ok());
  ASSERT_TRUE(reg_->Deregister(MakeService(a, a + "-1", 9050)).ok());
  ASSERT_TRUE(reg_->Deregister(MakeService(b, b + "-1", 9051)).ok());
}

TEST_F(EtcdTest, FailsOverFromADeadFirstEndpoint) {
  std::string dead;
  {
    const uint16_t port = FreePort();
    dead = "127.0.0.1:" + std::to_string(port);
  }
  auto r = etcd::NewRegistry({.addrs = {dead + "," + etcd_->endpoint()}});
  ASSERT_TRUE(r.ok());
  auto reg = *r;
  const std::string name = Unique("failover");
  auto w = reg->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  auto svc = MakeService(name, name + "-a", 9060);
  ASSERT_TRUE(reg->Register(svc, {.ttl = 5s}).ok());
  auto got = reg->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_TRUE(NextEvent(**w, name, registry::EventType::kCreate).ok());
  ASSERT_TRUE(reg->Deregister(svc).ok());
}

TEST_F(EtcdTest, AllEndpointsDeadIsAnError) {
  const std::string dead = "127.0.0.1:" + std::to_string(FreePort());
  auto r = etcd::NewRegistry({.addrs = {dead}, .params = {{"etcd.timeout_ms", "1000"}}});
  ASSERT_TRUE(r.ok());
  auto got = (*r)->GetService("anything");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, 500);
  EXPECT_NE(got.error().detail.find(dead), std::string::npos) << got.error();
}

TEST_F(EtcdTest, EndpointForms) {
  // Scheme prefixes and a missing port (2379) are accepted; https means TLS.
  auto r = etcd::NewRegistry({.addrs = {"http://" + etcd_->endpoint() + "/"}});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->GetService(Unique("none")).ok());
  EXPECT_TRUE(registry::IsNotFound((*r)->GetService(Unique("none")).error()));
  auto bad = etcd::NewRegistry({.addrs = {" , "}});
  EXPECT_FALSE(bad.ok());
  auto bad_timeout = etcd::NewRegistry({.params = {{"etcd.timeout_ms", "x"}}});
  EXPECT_FALSE(bad_timeout.ok());
}

// A separate etcd for the tests that change its configuration or stop it.
class OwnEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdInstalled()) GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    etcd_ = std::make_unique<EtcdServer>();
    ASSERT_TRUE(etcd_->Start()) << etcd_->Log();
  }
  std::unique_ptr<EtcdServer> etcd_;
};

TEST_F(OwnEtcdTest, AuthWithUserAndPassword) {
  const std::string ep = etcd_->endpoint();
  ASSERT_FALSE(Raw(ep, "/v3/auth/user/add", {{"name", "root"}, {"password", "s3cret"}})
                   .contains("http_status"));
  ASSERT_FALSE(Raw(ep, "/v3/auth/role/add", {{"name", "root"}}).contains("http_status"));
  ASSERT_FALSE(
      Raw(ep, "/v3/auth/user/grant", {{"user", "root"}, {"role", "root"}}).contains("http_status"));
  Json enabled = Raw(ep, "/v3/auth/enable", Json::object());
  ASSERT_FALSE(enabled.contains("http_status")) << enabled.dump();

  const std::string name = Unique("auth");
  auto svc = MakeService(name, name + "-a", 9070);
  auto anonymous = etcd::NewRegistry({.addrs = {ep}});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_FALSE((*anonymous)->Register(svc).ok());

  auto wrong = etcd::NewRegistry(
      {.addrs = {ep}, .params = {{"etcd.username", "root"}, {"etcd.password", "nope"}}});
  ASSERT_TRUE(wrong.ok());
  auto st = (*wrong)->Register(svc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 401) << st.error();

  auto good = etcd::NewRegistry(
      {.addrs = {ep}, .params = {{"etcd.username", "root"}, {"etcd.password", "s3cret"}}});
  ASSERT_TRUE(good.ok());
  auto w = (*good)->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*good)->Register(svc, {.ttl = 5s}).ok());
  ASSERT_TRUE((*good)->Register(svc, {.ttl = 5s}).ok());  // keep-alive with the token
  auto got = (*good)->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_TRUE(NextEvent(**w, name, registry::EventType::kCreate).ok());
  ASSERT_TRUE((*good)->Deregister(svc).ok());
  EXPECT_TRUE(NextEvent(**w, name, registry::EventType::kDelete).ok());
}

TEST_F(OwnEtcdTest, SurvivesARestart) {
  auto r = etcd::NewRegistry({.addrs = {etcd_->endpoint()}});
  ASSERT_TRUE(r.ok());
  auto reg = *r;
  const std::string name = Unique("restart");
  auto w = reg->Watch({.service = name});
  ASSERT_TRUE(w.ok());
  auto a = MakeService(name, name + "-a", 9080);
  ASSERT_TRUE(reg->Register(a, {.ttl = 10s}).ok());
  ASSERT_TRUE(NextEvent(**w, name, registry::EventType::kCreate).ok());

  etcd_->Stop();
  EXPECT_FALSE(reg->GetService(name).ok());  // down: an error, not a crash
  ASSERT_TRUE(etcd_->Start()) << etcd_->Log();

  // The registrar's next interval re-registers: back at once.
  const auto start = Clock::now();
  ASSERT_TRUE(reg->Register(a, {.ttl = 10s}).ok());
  auto got = reg->GetService(name);
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_LT(Clock::now() - start, 2s);

  // The watch resumed: a new node after the restart is seen.
  auto b = MakeService(name, name + "-b", 9081);
  ASSERT_TRUE(reg->Register(b, {.ttl = 10s}).ok());
  auto ev = NextEvent(**w, name, registry::EventType::kCreate, 8s);
  ASSERT_TRUE(ev.ok()) << ev.error();
  EXPECT_EQ(ev->service.nodes.at(0).id, name + "-b");
  ASSERT_TRUE(reg->Deregister(a).ok());
  ASSERT_TRUE(reg->Deregister(b).ok());
}

}  // namespace
}  // namespace micro::testing
