// micro sidecar: its pure parts (registrations, calls to the app), then the real programs on a
// real etcd: `micro sidecar` and the Python app of examples/sidecar, with this process as the
// C++ sum service (examples/sum's Adder), C++ client, publisher and subscriber.
#include <gtest/gtest.h>
#include <micro/micro.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "etcd_server.h"
#include "greeter.micro.h"
#include "http/websocket_frame.h"
#include "sidecar/inbound.h"
#include "sidecar/registration.h"
#include "sum.micro.h"
#include "support/curl.h"
#include "support/server_process.h"

namespace micro {
namespace {

using nlohmann::json;
using testing::Curl;
using namespace std::chrono_literals;

// --- registrations -------------------------------------------------------------------------

TEST(SidecarRegistrationTest, AcceptsGoMicroJsonWithTheAppsAddress) {
  auto r = sidecar_detail::ParseRegistration(
      R"({"Name":"greeter","Version":"1.0.0","Endpoints":[{"Name":"Greeter.Hello"}],)"
      R"("Nodes":[{"Address":"127.0.0.1:9000"}]})");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->service.name, "greeter");
  EXPECT_EQ(r->service.endpoints.at(0).name, "Greeter.Hello");
  EXPECT_EQ(r->app_address, "127.0.0.1:9000");
  EXPECT_TRUE(r->service.nodes.empty()) << "the sidecar puts its own node in";
  auto bare = sidecar_detail::ParseRegistration(R"({"name":"go.micro.srv.py_app-2:x"})");
  ASSERT_TRUE(bare.ok()) << bare.error();
  EXPECT_EQ(bare->app_address, "");
}

TEST(SidecarRegistrationTest, MalformedRegistrationsSayWhatIsWrong) {
  auto detail = [](std::string_view body) {
    auto r = sidecar_detail::ParseRegistration(body);
    EXPECT_FALSE(r.ok()) << body;
    if (r.ok()) return std::string();
    EXPECT_EQ(r.error().code, 400);
    EXPECT_EQ(r.error().id, "go.micro.sidecar");
    return r.error().detail;
  };
  EXPECT_TRUE(detail("nope").starts_with("registration: not a service JSON"));
  EXPECT_TRUE(detail("[1,2]").starts_with("registration: not a service JSON"));
  EXPECT_EQ(detail(R"({"name":""})"), "registration: the service has no name");
  EXPECT_EQ(detail(R"({"version":"1"})"), "registration: the service has no name");
  EXPECT_EQ(detail(R"({"name":"<script>"})"),
            "registration: service name \"<script>\" may only hold letters, digits and . _ - : "
            "(at most 256)");
  EXPECT_NE(detail(R"({"name":"a b"})").find("may only hold"), std::string::npos);
  EXPECT_NE(detail(R"({"name":"a","version":"1\n2"})").find("version \"1?2\""), std::string::npos);
  EXPECT_NE(detail(std::string(R"({"name":")") + std::string(300, 'a') + "\"}").find("..."),
            std::string::npos);
  EXPECT_EQ(detail(R"({"name":"a","endpoints":[{"name":"Hello"}]})"),
            "registration: endpoint \"Hello\" is not Handler.Method");
  EXPECT_EQ(detail(R"({"name":"a","endpoints":[{"name":"../x.y"}]})"),
            "registration: endpoint \"../x.y\" is not Handler.Method");
  EXPECT_NE(detail(R"({"name":"a","nodes":[{"address":"a:1"},{"address":"b:2"}]})")
                .find("at most one node"),
            std::string::npos);
  EXPECT_EQ(detail(R"({"name":"a","nodes":[{"address":"nohost"}]})"),
            "registration: node address \"nohost\" is not host:port");
  EXPECT_EQ(detail(R"({"name":"a","nodes":[{"address":":80"}]})"),
            "registration: node address \":80\" is not host:port");
  EXPECT_FALSE(detail(R"({"name":"a","nodes":"x"})").empty());
}

TEST(SidecarRegistrationTest, HealthUrls) {
  auto ok = sidecar_detail::ParseHealthUrl("http://127.0.0.1:9000/health?deep=1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->address, "127.0.0.1:9000");
  EXPECT_EQ(ok->target, "/health?deep=1");
  EXPECT_EQ(sidecar_detail::ParseHealthUrl("http://localhost:80")->target, "/");
  EXPECT_FALSE(sidecar_detail::ParseHealthUrl("https://127.0.0.1:9000/").ok());
  EXPECT_FALSE(sidecar_detail::ParseHealthUrl("http://127.0.0.1/").ok());
  EXPECT_FALSE(sidecar_detail::ParseHealthUrl("127.0.0.1:9000").ok());
}

// --- calls to the app ----------------------------------------------------------------------

Message MeshCall(std::string endpoint, std::string content_type = "application/json") {
  Message m;
  m.header.Set("Micro-Id", "7");
  m.header.Set("Micro-Service", "greeter");
  m.header.Set("Micro-Endpoint", std::move(endpoint));
  m.header.Set("Content-Type", std::move(content_type));
  m.header.Set("Content-Length", "15");
  m.header.Set("X-Trace", "abc");
  m.body = R"({"name":"John"})";
  return m;
}

TEST(SidecarInboundTest, CallsBecomeHttpPostsToTheApp) {
  auto req = sidecar_detail::AppRequest(MeshCall("Greeter.Hello"));
  ASSERT_TRUE(req.ok()) << req.error();
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->target, "/Greeter.Hello");
  EXPECT_EQ(req->body, R"({"name":"John"})");
  EXPECT_EQ(req->header.GetOr("X-Trace"), "abc");
  EXPECT_EQ(req->header.GetOr("Micro-Service"), "greeter");
  EXPECT_FALSE(req->header.Get("Content-Length").has_value());
}

TEST(SidecarInboundTest, WhatTheAppCannotTakeIsRefusedClearly) {
  auto stream = MeshCall("Greeter.Stream");
  stream.header.Set("Micro-Stream", "1");
  auto s = sidecar_detail::AppRequest(stream);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 400);
  EXPECT_NE(s.error().detail.find("stream"), std::string::npos);

  auto proto = sidecar_detail::AppRequest(MeshCall("Greeter.Hello", "application/protobuf"));
  ASSERT_FALSE(proto.ok());
  EXPECT_EQ(proto.error().code, 415);
  EXPECT_NE(proto.error().detail.find("JSON"), std::string::npos);

  for (const char* bad : {"Hello", "Greeter.", ".Hello", "../../etc.passwd", "A.B.C", "A.B?x"}) {
    auto e = sidecar_detail::AppRequest(MeshCall(bad));
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().code, 400) << bad;
  }
}

TEST(SidecarInboundTest, AppAnswersBecomeRepliesOrErrors) {
  const Message call = MeshCall("Greeter.Hello");
  auto ok =
      sidecar_detail::AppReply(call, {.status = 200, .body = R"({"msg":"Hello John"})"}, "greeter");
  EXPECT_EQ(ok.body, R"({"msg":"Hello John"})");
  EXPECT_EQ(ok.header.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(ok.header.GetOr("Micro-Id"), "7");
  EXPECT_FALSE(ok.header.Get("Micro-Error").has_value());

  auto own = sidecar_detail::AppReply(
      call, {.status = 400, .body = R"({"id":"greeter","code":400,"detail":"name is required"})"},
      "greeter");
  auto e = Error::Parse(own.header.GetOr("Micro-Error"));
  EXPECT_EQ(e.code, 400);
  EXPECT_EQ(e.detail, "name is required");
  EXPECT_TRUE(own.body.empty());

  auto text = sidecar_detail::AppReply(call, {.status = 500, .body = "boom"}, "greeter");
  e = Error::Parse(text.header.GetOr("Micro-Error"));
  EXPECT_EQ(e.code, 500);
  EXPECT_EQ(e.id, "greeter");
  EXPECT_EQ(e.detail, "the app answered 500: boom");
  EXPECT_EQ(text.header.GetOr("X-Micro-Error"), text.header.GetOr("Micro-Error"));
}

// --- the real programs ---------------------------------------------------------------------

constexpr auto kHealthInterval = 1s;

class Adder final : public sum::AdderHandler {
 public:
  Status Add(Context&, const sum::AddRequest& req, sum::AddResponse& rsp) override {
    rsp.set_sum(req.a() + req.b());
    return {};
  }
};

// Messages a C++ subscriber received.
struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> bodies;
  bool Has(const std::string& needle, Duration timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] {
      for (const auto& b : bodies) {
        if (b.find(needle) != std::string::npos) return true;
      }
      return false;
    });
  }
};

class SidecarEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    etcd_ = testing::SharedEtcd(&why);
    if (!etcd_) {
      skip_ = why;
      return;
    }
    const std::string reg = "--registry=etcd", reg_addr = "--registry_address=" + etcd_->endpoint();
    sidecar_port_ = testing::FreePort();
    app_port_ = testing::FreePort();
    while (app_port_ == sidecar_port_) app_port_ = testing::FreePort();
    const std::string app = "127.0.0.1:" + std::to_string(app_port_);
    sidecar_ = new testing::ServerProcess(
        "sidecar",
        {MICRO_BINARY, reg, reg_addr, "--server_address=127.0.0.1:0", "sidecar", "--address",
         "127.0.0.1:" + std::to_string(sidecar_port_), "--app_name", "greeter", "--app_address",
         app, "--healthcheck_url", "http://" + app + "/health", "--health_interval", "1s"});
    app_ = new testing::ServerProcess(
        "app",
        {"/usr/bin/python3", MICRO_SOURCE_DIR "/examples/sidecar/app.py", "--port",
         std::to_string(app_port_), "--sidecar", "127.0.0.1:" + std::to_string(sidecar_port_)});
    ASSERT_TRUE(sidecar_->Start()) << sidecar_->Log();
    ASSERT_TRUE(sidecar_->WaitForPort(sidecar_port_, 15s)) << sidecar_->Log();
    ASSERT_TRUE(app_->Start()) << app_->Log();

    // The C++ sum service the app calls, in this process: examples/sum's Adder.
    ServiceOptions options{.name = "sum",
                           .address = "127.0.0.1:0",
                           .registry = "etcd",
                           .registry_address = {etcd_->endpoint()},
                           .handle_signals = false};
    options.client.retries = 1;
    service_ = new Service(options);
    ASSERT_TRUE(sum::RegisterAdderHandler(service_->Server(), std::make_shared<Adder>()).ok());
    ASSERT_TRUE(service_->Start().ok());
    ASSERT_TRUE(service_->Broker()->Connect().ok());  // the server connects it only to subscribe
    registry_ = service_->Registry().get();
    ASSERT_TRUE(WaitForApp(20s)) << "the app never registered\n--- sidecar:\n"
                                 << sidecar_->Log() << "\n--- app:\n"
                                 << app_->Log();
  }
  static void TearDownTestSuite() {
    if (service_) (void)service_->Stop();
    delete service_;
    service_ = nullptr;
    delete app_;
    delete sidecar_;
    app_ = sidecar_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  // Until greeter is registered with the app's endpoints (the app's own POST /registry).
  static bool WaitForApp(Duration timeout) {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      auto found = registry_->GetService("greeter");
      if (found && !found->empty() && found->front().endpoints.size() == 4) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  static bool Registered() {
    auto found = registry_->GetService("greeter");
    return found && !found->empty() && !found->front().nodes.empty();
  }
  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(sidecar_port_) + path;
  }
  static std::string Logs() {
    return "\n--- sidecar:\n" + sidecar_->Log() + "\n--- app:\n" + app_->Log();
  }

  static inline testing::EtcdServer* etcd_ = nullptr;
  static inline testing::ServerProcess* sidecar_ = nullptr;
  static inline testing::ServerProcess* app_ = nullptr;
  static inline Service* service_ = nullptr;
  static inline Registry* registry_ = nullptr;
  static inline uint16_t sidecar_port_ = 0, app_port_ = 0;
  static inline std::string skip_;
};

// The generated C++ client calls the Python app as any other greeter.
TEST_F(SidecarEndToEnd, CppClientCallsThePythonApp) {
  greeter::GreeterService client("greeter", service_->Client());
  greeter::Request req;
  req.set_name("John");
  auto rsp = client.Hello(req);
  ASSERT_TRUE(rsp.ok()) << rsp.error() << Logs();
  EXPECT_EQ(rsp->msg(), "Hello John");

  req.set_name("");
  auto bad = client.Hello(req);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 400);
  EXPECT_EQ(bad.error().id, "greeter");
  EXPECT_EQ(bad.error().detail, "name is required");

  // What the app cannot serve comes back as an error, not a hang.
  Context ctx;
  auto stream = client.Stream(ctx);
  if (stream.ok()) {
    greeter::Request r;
    r.set_name("x");
    greeter::Response answer;
    EXPECT_FALSE(stream->Send(r) && stream->Recv(answer));
    EXPECT_NE(stream->status().error().detail.find("stream"), std::string::npos)
        << stream->status().error();
  }
  auto unknown = Call<greeter::Response>(*service_->Client(), ctx, "greeter", "Greeter.Nope", req);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, 404);
  EXPECT_EQ(unknown.error().detail, "unknown endpoint Greeter.Nope");

  // The registry shows the app's endpoints and the sidecar's node.
  auto found = registry_->GetService("greeter");
  ASSERT_TRUE(found.ok());
  const auto& node = found->front().nodes.at(0);
  EXPECT_EQ(node.metadata.at("sidecar"), "true");
  EXPECT_EQ(node.metadata.at("app_address"), "127.0.0.1:" + std::to_string(app_port_));
  EXPECT_EQ(found->front().version, "1.0.0");
}

// Greeter.Add in Python calls the C++ sum service through the sidecar's /rpc.
TEST_F(SidecarEndToEnd, PythonAppCallsCppSum) {
  sum::AddRequest req;
  req.set_a(2);
  req.set_b(40);
  Context ctx;
  auto rsp = Call<sum::AddResponse>(*service_->Client(), ctx, "greeter", "Greeter.Add", req);
  ASSERT_TRUE(rsp.ok()) << rsp.error() << Logs();
  EXPECT_EQ(rsp->sum(), 42);
  // /rpc straight from curl, as the app does it.
  auto r =
      Curl({"-H", "Content-Type: application/json", "-d",
            R"({"service":"sum","endpoint":"Adder.Add","request":{"a":1,"b":2}})", Url("/rpc")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["sum"], "3");  // int64 in proto JSON
}

// C++ publishes, the app reads it from its WebSocket; the app publishes through its
// WebSocket, a C++ subscriber gets it.
TEST_F(SidecarEndToEnd, PubSubBothWaysOverTheWebSocket) {
  auto broker = service_->Broker();
  // C++ -> Python. (The app's subscription may take a moment to reach the registry: publish
  // until it arrives.)
  bool arrived = false;
  for (int i = 0; i < 50 && !arrived; ++i) {
    Message m{.header = {{"Content-Type", "application/json"}},
              .body = R"({"text":"from c++ )" + std::to_string(i) + "\"}"};
    Status published = broker->Publish("greeter.events", m);
    ASSERT_TRUE(published.ok()) << published.error();
    std::this_thread::sleep_for(300ms);
    auto r =
        Curl({"-H", "Content-Type: application/json", "-d",
              R"({"service":"greeter","endpoint":"Greeter.Received","request":{}})", Url("/rpc")});
    arrived = r.body.find("from c++") != std::string::npos;
  }
  EXPECT_TRUE(arrived) << Logs();

  // Python -> C++.
  Inbox inbox;
  auto sub = broker->Subscribe("greeter.out", [&](const broker::Event& e) {
    std::lock_guard lock(inbox.mu);
    inbox.bodies.push_back(e.message.body);
    inbox.cv.notify_all();
    return Status{};
  });
  ASSERT_TRUE(sub.ok()) << sub.error();
  bool received = false;
  for (int i = 0; i < 50 && !received; ++i) {
    auto r = Curl({"-H", "Content-Type: application/json", "-d",
                   R"({"service":"greeter","endpoint":"Greeter.Publish",)"
                   R"("request":{"text":"from python"}})",
                   Url("/rpc")});
    ASSERT_EQ(r.status, 200) << r.body << Logs();
    received = inbox.Has("from python", 300ms);
  }
  EXPECT_TRUE(received) << Logs();
  (void)(*sub)->Unsubscribe();
  std::lock_guard lock(inbox.mu);
  if (!inbox.bodies.empty()) {
    EXPECT_EQ(json::parse(inbox.bodies[0])["text"], "from python");
  }
}

// Bad input over HTTP: clear go-micro errors with the right codes.
TEST_F(SidecarEndToEnd, MalformedRequestsGetClearErrors) {
  auto post = [](const std::string& body, const std::string& query = "") {
    return Curl({"-H", "Content-Type: application/json", "-d", body, Url("/registry" + query)});
  };
  auto garbage = post("{not json");
  EXPECT_EQ(garbage.status, 400);
  auto e = json::parse(garbage.body);
  EXPECT_EQ(e["id"], "go.micro.sidecar");
  EXPECT_TRUE(e["detail"].get<std::string>().starts_with("registration: not a service JSON"));
  EXPECT_EQ(json::parse(post(R"({"name":""})").body)["detail"],
            "registration: the service has no name");
  EXPECT_EQ(post(R"({"name":"x","endpoints":[{"name":"nodot"}]})").status, 400);
  EXPECT_EQ(post(R"({"name":"x"})", "?ttl=soon").status, 400);
  EXPECT_EQ(Curl({"-X", "DELETE", Url("/registry?service=nobody")}).status, 404);
  EXPECT_EQ(Curl({"-X", "PUT", Url("/registry")}).status, 405);

  auto missing = Curl({Url("/registry?service=nobody")});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["detail"], "Service not found");
  const json listed = json::parse(Curl({Url("/registry")}).body);
  bool has_greeter = false;
  for (const auto& s : listed) has_greeter = has_greeter || s["name"] == "greeter";
  EXPECT_TRUE(has_greeter);

  auto no_topic = Curl({Url("/broker")});
  EXPECT_EQ(no_topic.status, 400);
  EXPECT_EQ(json::parse(no_topic.body)["detail"], "Topic not specified");
  EXPECT_EQ(Curl({Url("/broker?topic=t")}).status, 400);  // GET without the upgrade
  EXPECT_EQ(Curl({"-X", "PUT", Url("/broker?topic=t")}).status, 405);
  EXPECT_EQ(Curl({"-d", "hello", Url("/broker?topic=sidecar.test.post")}).status, 200);
  EXPECT_EQ(Curl({Url("/health")}).status, 200);
}

// A raw WebSocket on /broker: bad frames close it with the RFC 6455 code and a reason.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) : socket_(io_) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(ep);
    const std::string handshake =
        "GET /broker?topic=sidecar.test.raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    asio::write(socket_, asio::buffer(handshake));
    asio::read_until(socket_, buf_, "\r\n\r\n");
    std::istream in(&buf_);
    std::getline(in, status_line_);
    std::string line;
    while (std::getline(in, line) && line != "\r") {
    }
  }
  const std::string& status_line() const { return status_line_; }
  void Send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // The close frame's code and reason (the server sends nothing else to these sockets).
  std::pair<int, std::string> ReadClose() {
    std::error_code ec;
    asio::read(socket_, buf_, asio::transfer_at_least(4), ec);
    std::string data(asio::buffers_begin(buf_.data()), asio::buffers_end(buf_.data()));
    if (data.size() < 4 || static_cast<uint8_t>(data[0]) != 0x88) return {-1, data};
    const std::size_t len = static_cast<uint8_t>(data[1]) & 0x7f;
    while (data.size() < 2 + len && !ec) {
      asio::read(socket_, buf_, asio::transfer_at_least(1), ec);
      data.assign(asio::buffers_begin(buf_.data()), asio::buffers_end(buf_.data()));
    }
    const int code = (static_cast<uint8_t>(data[2]) << 8) | static_cast<uint8_t>(data[3]);
    return {code, data.substr(4, len - 2)};
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  asio::streambuf buf_;
  std::string status_line_;
};

TEST_F(SidecarEndToEnd, MalformedWebSocketFramesCloseWithTheReason) {
  namespace ws = http::websocket_detail;
  const uint8_t mask[4] = {1, 2, 3, 4};
  {
    RawSocket s(sidecar_port_);
    ASSERT_EQ(s.status_line(), "HTTP/1.1 101 Switching Protocols\r");
    s.Send(ws::EncodeFrame(ws::kText, "unmasked"));  // clients must mask
    auto [code, reason] = s.ReadClose();
    EXPECT_EQ(code, 1002) << reason;
    EXPECT_FALSE(reason.empty());
  }
  {
    RawSocket s(sidecar_port_);
    s.Send(ws::EncodeFrame(ws::kText, "bad \xff utf-8", true, mask));
    auto [code, reason] = s.ReadClose();
    EXPECT_EQ(code, 1007) << reason;
  }
  {
    RawSocket s(sidecar_port_);
    // A header announcing 2 MiB (over the 1 MiB limit): refused before the payload comes.
    std::string head = "\x81\xff";
    for (int i = 7; i >= 0; --i) head += static_cast<char>((uint64_t{2} << 20 >> (8 * i)) & 0xff);
    head.append(reinterpret_cast<const char*>(mask), 4);
    s.Send(head);
    auto [code, reason] = s.ReadClose();
    EXPECT_EQ(code, 1009) << reason;
  }
  {
    RawSocket s(sidecar_port_);
    s.Send(ws::EncodeFrame(0x3, "reserved opcode", true, mask));
    auto [code, reason] = s.ReadClose();
    EXPECT_EQ(code, 1002) << reason;
  }
}

// Last (it kills the app): the node leaves within one health interval and comes back with it.
TEST_F(SidecarEndToEnd, AppDownLeavesTheRegistryAndReturns) {
  ASSERT_TRUE(Registered());
  app_->Kill();
  const auto killed = Clock::now();
  while (Registered() && Clock::now() - killed < 20s) std::this_thread::sleep_for(20ms);
  const auto gone_after = Clock::now() - killed;
  ASSERT_FALSE(Registered()) << Logs();
  std::cout << "deregistered "
            << std::chrono::duration_cast<std::chrono::milliseconds>(gone_after).count()
            << " ms after the app died (health interval "
            << std::chrono::duration_cast<std::chrono::milliseconds>(kHealthInterval).count()
            << " ms)\n";
  // One interval until the next check, plus slack for a loaded (sanitizer) machine.
  EXPECT_LT(gone_after, kHealthInterval + 2s);

  auto health = Curl({Url("/health")});
  EXPECT_EQ(health.status, 500);
  EXPECT_NE(health.body.find("refused"), std::string::npos) << health.body;
  greeter::GreeterService client("greeter", service_->Client());
  greeter::Request req;
  req.set_name("John");
  EXPECT_FALSE(client.Hello(req).ok());

  ASSERT_TRUE(app_->Start()) << app_->Log();
  ASSERT_TRUE(WaitForApp(20s)) << Logs();
  auto rsp = client.Hello(req);
  ASSERT_TRUE(rsp.ok()) << rsp.error() << Logs();
  EXPECT_EQ(rsp->msg(), "Hello John");
  EXPECT_EQ(Curl({Url("/health")}).status, 200);
}

}  // namespace
}  // namespace micro
