// micro web in one process: the registry view (pure), then the dashboard on a loopback port
// with a real greeter on the HTTP transport, a memory registry, a web service behind the
// proxy, and Debian's curl (and python's websocket client) as the peers.
#include "micro/web.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "greeter.pb.h"
#include "http/server.h"
#include "http/websocket.h"
#include "micro/broker.h"
#include "micro/client.h"
#include "micro/errors.h"
#include "micro/handler.h"
#include "micro/http_client.h"
#include "micro/registry.h"
#include "micro/runtime.h"
#include "micro/selector.h"
#include "micro/server.h"
#include "micro/transport.h"
#include "support/curl.h"
#include "web/event_stream.h"
#include "web/registry_view.h"

namespace micro::web {
namespace {

using nlohmann::json;
using testing::Curl;
using namespace std::chrono_literals;

// --- the registry view ---------------------------------------------------------------------

TEST(RegistryViewTest, WebPathsFollowTheNamespaceAndSegmentRule) {
  EXPECT_EQ(web_detail::WebPath("go.micro.web.hello", "go.micro.web"), "/hello");
  EXPECT_EQ(web_detail::WebPath("go.micro.web.my-app2", "go.micro.web"), "/my-app2");
  EXPECT_EQ(web_detail::WebPath("go.micro.web.a.b", "go.micro.web"), "");  // not one segment
  EXPECT_EQ(web_detail::WebPath("go.micro.web.", "go.micro.web"), "");
  EXPECT_EQ(web_detail::WebPath("greeter", "go.micro.web"), "");
  EXPECT_EQ(web_detail::WebPath("go.micro.webhello", "go.micro.web"), "");
  EXPECT_EQ(web_detail::WebPath("hello", ""), "/hello");
  EXPECT_TRUE(web_detail::IsProxySegment("a-1"));
  EXPECT_FALSE(web_detail::IsProxySegment("-a"));
  EXPECT_FALSE(web_detail::IsProxySegment("a_b"));
  EXPECT_FALSE(web_detail::IsProxySegment("<script>"));
  EXPECT_FALSE(web_detail::IsProxySegment(""));
}

TEST(RegistryViewTest, SummaryAndServiceJson) {
  std::vector<registry::Service> services{
      {.name = "greeter", .version = "2", .nodes = {{.id = "g2", .address = "a:1"}}},
      {.name = "<script>alert(1)</script>",
       .version = "1",
       .nodes = {{.id = "x", .address = "b:2"}}},
      {.name = "greeter",
       .version = "1",
       .nodes = {{.id = "g1a", .address = "a:2"}, {.id = "g1b", .address = "a:3"}}},
      {.name = "go.micro.web.hello", .version = "latest"},
  };
  auto view = web_detail::MakeView(services, "", "go.micro.web");
  auto summary = json::parse(view->summary_json);
  EXPECT_EQ(summary["error"], "");
  ASSERT_EQ(summary["services"].size(), 3u);
  EXPECT_EQ(summary["services"][0]["name"], "<script>alert(1)</script>");  // sorted, exact
  EXPECT_EQ(summary["services"][1]["name"], "go.micro.web.hello");
  EXPECT_EQ(summary["services"][1]["web"], "/hello");
  EXPECT_EQ(summary["services"][2]["name"], "greeter");
  EXPECT_EQ(summary["services"][2]["versions"], json::array({"1", "2"}));
  EXPECT_EQ(summary["services"][2]["nodes"], 3);
  EXPECT_EQ(summary["services"][2]["web"], "");
  // Markup never travels as markup: Go's JSON escaping of < and >.
  EXPECT_EQ(view->registry_json.find("<script>"), std::string::npos);
  EXPECT_EQ(json::parse(view->registry_json)["services"].size(), 4u);

  auto one = json::parse(web_detail::ServiceJson(*view, "greeter"));
  ASSERT_EQ(one["services"].size(), 2u);
  EXPECT_EQ(one["services"][0]["version"], "1");
  EXPECT_EQ(web_detail::ServiceJson(*view, "nobody"), "");

  auto failed = web_detail::MakeView(services, "registry etcd: down", "go.micro.web");
  EXPECT_EQ(json::parse(failed->summary_json)["error"], "registry etcd: down");
  EXPECT_EQ(web_detail::SseEvent("services", "{}"), "event: services\ndata: {}\n\n");
}

// --- the dashboard -------------------------------------------------------------------------

Handler GreeterHandler() {
  Handler h{.name = "Greeter"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [](Context&, const greeter::Request& req, greeter::Response& rsp) {
        if (req.name().empty()) return Status(errors::BadRequest("greeter", "name is required"));
        rsp.set_msg("Hello " + req.name());
        return Status{};
      }));
  return h;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *NewMemoryRegistry();
    transport_ = *Transports().Create("http", {});
    auto selector = *NewSelector({.registry = registry_});
    client_ = *NewClient({.retries = 1, .transport = transport_, .selector = selector});
    auto server = *NewServer({.name = "greeter",
                              .address = "127.0.0.1:0",
                              .transport = transport_,
                              .registry = registry_});
    ASSERT_TRUE(server->Handle(GreeterHandler()).ok());
    ASSERT_TRUE(server->Start().ok());
    greeter_ = server;
    StartWebApp();
    auto web = Dashboard::Start(
        {.address = "127.0.0.1:0", .poll_interval = 300ms},
        {.client = client_, .registry = registry_, .executor = Runtime::Default().executor()});
    ASSERT_TRUE(web.ok()) << web.error();
    web_ = std::move(*web);
    url_ = "http://" + web_->Addr();
  }

  void TearDown() override {
    web_.reset();
    if (app_) app_->Close();
    if (greeter_) (void)greeter_->Stop();
  }

  // go.micro.web.hello: answers with what it saw; echoes WebSocket messages with its path.
  void StartWebApp() {
    auto server = http::Server::Start(
        Runtime::Default().executor(), {.address = "127.0.0.1:0"},
        [](http::ServerRequest& req) -> asio::awaitable<http::ServerReply> {
          http::ServerReply reply;
          if (req.WantsWebSocket()) {
            reply.take_over = [&req](http::ByteStream& raw) -> asio::awaitable<void> {
              auto ws = co_await http::AcceptWebSocket(raw, req);
              if (!ws.ok()) co_return;
              for (;;) {
                auto msg = co_await (*ws)->Read();
                if (!msg.ok()) break;
                const std::string answer = "hello " + req.path + ": " + msg->data;
                if (!co_await (*ws)->Write(answer)) break;
              }
            };
            co_return reply;
          }
          reply.header.emplace_back("Content-Type", "text/plain");
          reply.body = std::string(req.method) + " " + req.target +
                       " base=" + std::string(req.header.GetOr("X-Micro-Web-Base-Path"));
          co_return reply;
        });
    ASSERT_TRUE(server.ok()) << server.error();
    app_ = *server;
    registry::Service svc{.name = "go.micro.web.hello", .version = "1"};
    svc.nodes.push_back({.id = "hello-1", .address = app_->Addr()});
    ASSERT_TRUE(registry_->Register(svc, {}).ok());
  }

  // Waits until the dashboard's view has the service (the watch is asynchronous).
  void WaitForService(const std::string& name) {
    const auto until = Clock::now() + 10s;
    while (Clock::now() < until) {
      if (Curl({url_ + "/registry?service=" + name}).status == 200) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << name << " never showed in the dashboard";
  }

  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Client> client_;
  std::shared_ptr<Server> greeter_;
  std::shared_ptr<http::Server> app_;
  std::unique_ptr<Dashboard> web_;
  std::string url_;
};

TEST_F(DashboardTest, ServesItsPageFromTheBinaryWithAStrictPolicy) {
  auto page = Curl({url_ + "/"});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header.GetOr("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header.GetOr("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  EXPECT_EQ(page.header.GetOr("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page.body.find(R"(<script src="/assets/app.js" defer></script>)"), std::string::npos);
  EXPECT_EQ(page.body.find("http"), std::string::npos) << "nothing fetched from elsewhere";

  auto js = Curl({url_ + "/assets/app.js"});
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header.GetOr("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body.find("innerHTML"), std::string::npos) << "registry strings go in as text";
  EXPECT_EQ(Curl({url_ + "/assets/style.css"}).header.GetOr("Content-Type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(Curl({url_ + "/favicon.ico"}).header.GetOr("Content-Type"), "image/svg+xml");

  auto missing = Curl({url_ + "/assets/nope.js"});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["id"], "go.micro.web");
  EXPECT_EQ(Curl({"-X", "POST", url_ + "/"}).status, 405);
}

TEST_F(DashboardTest, RegistryAsJson) {
  WaitForService("greeter");
  auto all = Curl({url_ + "/registry"});
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.header.GetOr("Content-Type"), "application/json");
  std::vector<std::string> names;
  const json parsed = json::parse(all.body);
  for (const auto& s : parsed["services"]) names.push_back(s["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"go.micro.web.hello", "greeter"}));

  auto one = json::parse(Curl({url_ + "/registry?service=greeter"}).body);
  ASSERT_EQ(one["services"].size(), 1u);
  const auto& ep = one["services"][0]["endpoints"][0];
  EXPECT_EQ(ep["name"], "Greeter.Hello");
  EXPECT_EQ(ep["request"]["values"][0]["name"], "name");

  auto nobody = Curl({url_ + "/registry?service=nobody"});
  EXPECT_EQ(nobody.status, 404);
  EXPECT_EQ(json::parse(nobody.body)["detail"], "service nobody not found");
}

TEST_F(DashboardTest, CallsThroughRpc) {
  auto ok = Curl({"-H", "Content-Type: application/json", "-d",
                  R"({"service":"greeter","endpoint":"Greeter.Hello","request":{"name":"John"}})",
                  url_ + "/rpc"});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"msg":"Hello John"})");
  auto bad =
      Curl({"-H", "Content-Type: application/json", "-d",
            R"({"service":"greeter","endpoint":"Greeter.Hello","request":{}})", url_ + "/rpc"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["detail"], "name is required");
}

// /events: the summary at once, then again when a service comes and when it goes.
TEST_F(DashboardTest, EventsFollowTheRegistry) {
  WaitForService("greeter");
  std::mutex mu;
  std::condition_variable cv;
  std::string seen;
  bool done = false;
  http::Client client;
  auto stream = asio::co_spawn(
      Runtime::Default().executor(),
      client.Stream(
          web_->Addr(), {.target = "/events"}, Context{},
          [](const http::Response& head) {
            return head.status == 200 &&
                   head.header.GetOr("Content-Type").starts_with("text/event-stream");
          },
          [&](std::string_view data) {
            std::lock_guard lock(mu);
            seen.append(data);
            cv.notify_all();
            return !done;
          }),
      asio::use_future);
  // Each `services` event's data, parsed, in order.
  auto events = [&] {
    std::vector<json> out;
    for (std::size_t at = 0;
         (at = seen.find("event: services\ndata: ", at)) != std::string::npos;) {
      at += 22;
      const auto end = seen.find("\n\n", at);
      if (end == std::string::npos) break;
      out.push_back(json::parse(seen.substr(at, end - at)));
    }
    return out;
  };
  auto has = [](const json& event, const std::string& name) {
    for (const auto& s : event["services"]) {
      if (s["name"] == name) return true;
    }
    return false;
  };
  auto wait_for = [&](auto predicate) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] {
      auto e = events();
      return !e.empty() && predicate(e.back());
    });
  };
  ASSERT_TRUE(wait_for([&](const json& e) { return has(e, "greeter"); })) << seen;

  registry::Service late{.name = "late.arrival", .version = "1"};
  late.nodes.push_back({.id = "late-1", .address = "127.0.0.1:1"});
  ASSERT_TRUE(registry_->Register(late, {}).ok());
  ASSERT_TRUE(wait_for([&](const json& e) { return has(e, "late.arrival"); })) << seen;
  ASSERT_TRUE(registry_->Deregister(late).ok());
  ASSERT_TRUE(wait_for([&](const json& e) { return !has(e, "late.arrival"); })) << seen;
  {
    std::lock_guard lock(mu);
    done = true;  // the next keep-alive ends the stream
  }
  EXPECT_EQ(stream.wait_for(10s), std::future_status::ready);
}

TEST_F(DashboardTest, ClosingEndsEventStreams) {
  http::Client client;
  auto stream = asio::co_spawn(
      Runtime::Default().executor(),
      client.Stream(
          web_->Addr(), {.target = "/events"}, Context{},
          [](const http::Response&) { return true; }, [](std::string_view) { return true; }),
      asio::use_future);
  std::this_thread::sleep_for(100ms);
  web_->Close();
  ASSERT_EQ(stream.wait_for(10s), std::future_status::ready);
}

TEST_F(DashboardTest, ProxiesWebServicesWithTheBasePath) {
  WaitForService("go.micro.web.hello");
  auto r = Curl({url_ + "/hello/page?x=1"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /page?x=1 base=/hello");
  EXPECT_EQ(Curl({url_ + "/hello"}).body, "GET / base=/hello");
  auto post = Curl({"-d", "a=b", url_ + "/hello/form"});
  EXPECT_EQ(post.body, "POST /form base=/hello");

  auto unknown = Curl({url_ + "/nobody/x"});
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto bad = Curl({url_ + "/bad_name/x"});
  EXPECT_EQ(bad.status, 404);
  EXPECT_EQ(json::parse(bad.body)["id"], "go.micro.web");

  // WebSockets are tunnelled.
  const std::string ws_url = "ws://" + web_->Addr() + "/hello/socket";
  const std::string out = testing::RunCommand(std::string("/usr/bin/python3 ") +
                                              MICRO_TEST_SOURCE_DIR "/api/ws_client.py " +
                                              testing::ShellQuote(ws_url) + " one two");
  EXPECT_EQ(out, "T hello /socket: one\nT hello /socket: two\nclosed\n");
}

}  // namespace
}  // namespace micro::web
