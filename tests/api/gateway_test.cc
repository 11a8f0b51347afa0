// The API gateway end to end in one process: real services on the HTTP transport, a memory
// registry and broker, the gateway on a loopback port, and Debian's curl (and python's
// websocket client) as the HTTP peers.
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api.pb.h"
#include "greeter.pb.h"
#include "http/server.h"
#include "http/websocket.h"
#include "micro/api.h"
#include "micro/broker.h"
#include "micro/client.h"
#include "micro/errors.h"
#include "micro/handler.h"
#include "micro/registry.h"
#include "micro/runtime.h"
#include "micro/selector.h"
#include "micro/server.h"
#include "micro/transport.h"
#include "micro/version.h"
#include "support/curl.h"

namespace micro::api {
namespace {

using nlohmann::json;

using micro::testing::Curl;
using micro::testing::RunCommand;

// go.micro.srv.greeter: Say.Hello (unary) and Say.Stream (bidi echo).
Handler SayHandler(std::atomic<int>* seen_header) {
  Handler h{.name = "Say"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Say.Hello",
      [seen_header](Context& ctx, const greeter::Request& req, greeter::Response& rsp) {
        if (ctx.metadata().GetOr("X-Test") == "yes") ++*seen_header;
        if (req.name() == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        if (req.name() == "forbidden") return Status(errors::Forbidden("greeter", "not you"));
        rsp.set_msg("Hello " + req.name());
        return Status{};
      }));
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Say.Stream", StreamKind::kBidiStream,
      [](Context&, TypedServerStream<greeter::Request, greeter::Response>& s) {
        greeter::Request req;
        while (s.Recv(req)) {
          greeter::Response rsp;
          rsp.set_msg("echo " + req.name());
          if (Status st = s.Send(rsp); !st) return st;
        }
        return s.status();
      }));
  return h;
}

// go.micro.api.greeter: Say.Hello takes the whole HTTP request and calls the greeter.
Handler ApiSayHandler(std::shared_ptr<Client> client) {
  Handler h{.name = "Say"};
  auto ep = UnaryEndpoint<go::api::Request, go::api::Response>(
      "Say.Hello", [client](Context& ctx, const go::api::Request& req, go::api::Response& rsp) {
        auto name = req.get().find("name");
        if (name == req.get().end() || name->second.values().empty()) {
          return Status(errors::BadRequest("go.micro.api.greeter", "no name"));
        }
        greeter::Request greet;
        greet.set_name(name->second.values(0));
        auto answer =
            Call<greeter::Response>(*client, ctx, "go.micro.srv.greeter", "Say.Hello", greet);
        if (!answer) return Status(std::move(answer).error());
        rsp.set_statuscode(200);
        (*rsp.mutable_header())["X-Api"].set_key("X-Api");
        (*rsp.mutable_header())["X-Api"].add_values(req.method() + " " + req.path());
        rsp.set_body(R"({"message":")" + answer->msg() + "\"}");
        return Status{};
      });
  ep.metadata["handler"] = "api";
  h.endpoints.push_back(std::move(ep));
  return h;
}

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = *NewMemoryRegistry();
    broker_ = *NewMemoryBroker();
    ASSERT_TRUE(broker_->Connect().ok());
    transport_ = *Transports().Create("http", {});
    auto selector = *NewSelector({.registry = registry_});
    // One retry: the default five back off for ~15 s against a refused address.
    client_ = *NewClient(
        {.retries = 1, .transport = transport_, .selector = selector, .broker = broker_});
    AddServer("go.micro.srv.greeter", SayHandler(&seen_header_));
    AddServer("go.micro.api.greeter", ApiSayHandler(client_));
    StartShop();
  }

  void TearDown() override {
    gateway_.reset();
    if (shop_) shop_->Close();
    for (auto& s : servers_) (void)s->Stop();
  }

  void AddServer(std::string name, Handler handler) {
    auto server = *NewServer({.name = std::move(name),
                              .address = "127.0.0.1:0",
                              .transport = transport_,
                              .registry = registry_});
    ASSERT_TRUE(server->Handle(std::move(handler)).ok());
    ASSERT_TRUE(server->Start().ok());
    servers_.push_back(server);
  }

  // An HTTP service (go.micro.api.shop) for the http and web handlers: answers what it saw.
  void StartShop() {
    auto server = http::Server::Start(
        Runtime::Default().executor(), {.address = "127.0.0.1:0"},
        [](http::ServerRequest& req) -> asio::awaitable<http::ServerReply> {
          http::ServerReply reply;
          if (req.WantsWebSocket()) {  // the web handler's tunnel: echo with a prefix
            reply.take_over = [&req](http::ByteStream& raw) -> asio::awaitable<void> {
              auto ws = co_await http::AcceptWebSocket(raw, req);
              if (!ws.ok()) co_return;
              for (;;) {
                auto msg = co_await (*ws)->Read();
                if (!msg.ok()) break;
                const std::string answer = "shop " + req.path + ": " + msg->data;
                if (!co_await (*ws)->Write(answer)) break;
              }
            };
            co_return reply;
          }
          reply.status = req.path == "/shop/missing" ? 404 : 200;
          reply.header.emplace_back("Content-Type", "text/plain");
          reply.header.emplace_back("X-Shop", "1");
          reply.body = std::string(req.method) + " " + req.target +
                       " xff=" + std::string(req.header.GetOr("X-Forwarded-For")) +
                       " body=" + req.body;
          co_return reply;
        });
    ASSERT_TRUE(server.ok()) << server.error();
    shop_ = *server;
    registry::Service svc{.name = "go.micro.api.shop", .version = "1"};
    svc.nodes.push_back({.id = "shop-1", .address = shop_->Addr()});
    ASSERT_TRUE(registry_->Register(svc, {}).ok());
  }

  void StartGateway(GatewayOptions options = {}) {
    options.address = "127.0.0.1:0";
    auto gw = Gateway::Start(options, {.client = client_, .registry = registry_});
    ASSERT_TRUE(gw.ok()) << gw.error();
    gateway_ = std::move(*gw);
    url_ = "http://" + gateway_->Addr();
  }

  // The gateway's address, for raw sockets.
  asio::ip::tcp::endpoint Endpoint() const {
    const std::string addr = gateway_->Addr();
    const auto colon = addr.rfind(':');
    return {asio::ip::make_address(addr.substr(0, colon)),
            static_cast<uint16_t>(std::stoi(addr.substr(colon + 1)))};
  }

  std::shared_ptr<Registry> registry_;
  std::shared_ptr<Broker> broker_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<Client> client_;
  std::vector<std::shared_ptr<Server>> servers_;
  std::shared_ptr<http::Server> shop_;
  std::unique_ptr<Gateway> gateway_;
  std::string url_;
  std::atomic<int> seen_header_{0};
};

// The toolkit announcement's first call, literally.
TEST_F(GatewayTest, SeedRpcCallWithCurlFormFields) {
  StartGateway();
  auto r = Curl({"-d", "service=go.micro.srv.greeter", "-d", "method=Say.Hello", "-d",
                 R"(request={"name": "John"})", url_ + "/rpc"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"msg":"Hello John"})");
  EXPECT_EQ(r.header.GetOr("Content-Type"), "application/json");
}

// The second: GET /greeter/say/hello?name=John -> go.micro.api.greeter Say.Hello (api handler,
// chosen by the endpoint's metadata under the default meta handler).
TEST_F(GatewayTest, SeedApiCallThroughMetaHandler) {
  StartGateway();
  auto r = Curl({url_ + "/greeter/say/hello?name=John"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"message":"Hello John"})");
  EXPECT_EQ(r.header.GetOr("X-Api"), "GET /greeter/say/hello");
  EXPECT_EQ(r.header.GetOr("Content-Type"), "application/json");
}

TEST_F(GatewayTest, RpcJsonBodyHeadersAsMetadataAndAddress) {
  StartGateway();
  auto r = Curl({"-H", "Content-Type: application/json", "-H", "X-Test: yes", "-d",
                 R"({"service":"go.micro.srv.greeter","endpoint":"Say.Hello",)"
                 R"("request":"{\"name\":\"Ann\"}"})",
                 url_ + "/rpc"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"msg":"Hello Ann"})");
  EXPECT_EQ(seen_header_.load(), 1);
  // address: that node only (a wrong one fails).
  auto bad = Curl({"-H", "Content-Type: application/json", "-d",
                   R"({"service":"go.micro.srv.greeter","endpoint":"Say.Hello",)"
                   R"("address":"127.0.0.1:1","request":{}})",
                   url_ + "/rpc"});
  EXPECT_GE(bad.status, 500);
  EXPECT_EQ(json::parse(bad.body)["id"], "go.micro.client");
}

TEST_F(GatewayTest, RpcErrors) {
  StartGateway();
  auto missing = Curl({"-d", "method=Say.Hello", url_ + "/rpc"});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body),
            json::parse(R"({"id":"go.micro.rpc","code":400,"detail":"invalid service",)"
                        R"("status":"Bad Request"})"));
  auto malformed = Curl({"-H", "Content-Type: application/json", "-d", "{nope", url_ + "/rpc"});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(json::parse(malformed.body)["id"], "go.micro.rpc");
  auto unknown = Curl({"-d", "service=go.micro.srv.nobody", "-d", "method=A.B", url_ + "/rpc"});
  EXPECT_EQ(unknown.status, 500);
  EXPECT_EQ(json::parse(unknown.body)["id"], "go.micro.client");
  auto handler_error = Curl({"-d", "service=go.micro.srv.greeter", "-d", "method=Say.Hello", "-d",
                             R"(request={"name":"forbidden"})", url_ + "/rpc"});
  EXPECT_EQ(handler_error.status, 403);
  EXPECT_EQ(json::parse(handler_error.body)["detail"], "not you");
  auto get = Curl({url_ + "/rpc"});
  EXPECT_EQ(get.status, 405);
  auto slow = Curl({"-H", "Timeout: 1", "-d", "service=go.micro.srv.greeter", "-d",
                    "method=Say.Hello", "-d", R"(request={"name":"slow"})", url_ + "/rpc"});
  EXPECT_EQ(slow.status, 408) << slow.body;
}

TEST_F(GatewayTest, RpcHandlerQueryBodyAndProtobuf) {
  StartGateway({.handler = "rpc", .ns = "go.micro.srv"});
  auto get = Curl({url_ + "/greeter/say/hello?name=John"});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(json::parse(get.body), json::parse(R"({"msg":"Hello John"})"));
  auto post = Curl({"-H", "Content-Type: application/json", "-d", R"({"name":"Bo"})",
                    url_ + "/greeter/say/hello"});
  EXPECT_EQ(json::parse(post.body), json::parse(R"({"msg":"Hello Bo"})"));
  // Protobuf in, protobuf out, same content type.
  greeter::Request req;
  req.set_name("Pb");
  std::string bytes = req.SerializeAsString();
  std::string file = ::testing::TempDir() + "/greeter_req.bin";
  FILE* f = fopen(file.c_str(), "wb");
  fwrite(bytes.data(), 1, bytes.size(), f);
  fclose(f);
  auto pb = Curl({"-H", "Content-Type: application/protobuf", "--data-binary", "@" + file,
                  url_ + "/greeter/say/hello"});
  EXPECT_EQ(pb.status, 200);
  EXPECT_EQ(pb.header.GetOr("Content-Type"), "application/protobuf");
  greeter::Response rsp;
  ASSERT_TRUE(rsp.ParseFromString(pb.body));
  EXPECT_EQ(rsp.msg(), "Hello Pb");
  auto unknown = Curl({url_ + "/nobody/x/y"});
  EXPECT_EQ(unknown.status, 500);
  EXPECT_EQ(json::parse(unknown.body)["id"], "go.micro.client");
}

TEST_F(GatewayTest, ApiHandlerExplicit) {
  StartGateway({.handler = "api"});
  auto r = Curl({url_ + "/greeter/say/hello?name=Zed"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"message":"Hello Zed"})");
  auto err = Curl({url_ + "/greeter/say/hello"});
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(json::parse(err.body)["detail"], "no name");
}

TEST_F(GatewayTest, HttpHandlerProxiesToTheRegisteredNode) {
  StartGateway({.handler = "http"});
  auto r = Curl({"-d", "x=1", url_ + "/shop/cart?id=7"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /shop/cart?id=7 xff=127.0.0.1 body=x=1");
  EXPECT_EQ(r.header.GetOr("X-Shop"), "1");
  EXPECT_EQ(Curl({url_ + "/shop/missing"}).status, 404);
  auto none = Curl({url_ + "/nowhere/x"});
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(json::parse(none.body)["id"], "go.micro.registry");
}

TEST_F(GatewayTest, WebHandlerProxiesHttpAndTunnelsWebSockets) {
  StartGateway({.handler = "web"});
  auto r = Curl({url_ + "/shop/index.html"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /shop/index.html xff=127.0.0.1 body=");
  std::string script = std::string(MICRO_TEST_SOURCE_DIR) + "/api/ws_client.py";
  EXPECT_EQ(RunCommand("/usr/bin/python3 " + script + " ws://" + gateway_->Addr() +
                       "/shop/live 'one' 'two'"),
            "T shop /shop/live: one\nT shop /shop/live: two\nclosed\n");
}

TEST_F(GatewayTest, EventHandlerPublishesGoApiEvent) {
  std::mutex mu;
  std::vector<std::string> got;
  auto sub = broker_->Subscribe("go.micro.api.user", [&](const broker::Event& e) {
    std::lock_guard lock(mu);
    got.push_back(e.message.body);
    return Status{};
  });
  ASSERT_TRUE(sub.ok());
  StartGateway({.handler = "event"});
  auto r = Curl({"-d", R"({"who":"ann"})", url_ + "/user/login"});
  EXPECT_EQ(r.status, 200);
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (!got.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(mu);
  ASSERT_EQ(got.size(), 1u);
  json event = json::parse(got[0]);
  EXPECT_EQ(event["name"], "login");
  EXPECT_EQ(event["data"], R"({"who":"ann"})");
  EXPECT_EQ(event["id"].get<std::string>().rfind("go.micro.api.user-login-", 0), 0u);
}

TEST_F(GatewayTest, CorsPreflightAndHeaders) {
  StartGateway();
  auto pre = Curl({"-X", "OPTIONS", "-H", "Origin: http://app.example", url_ + "/rpc"});
  EXPECT_EQ(pre.status, 200);
  EXPECT_EQ(pre.header.GetOr("Access-Control-Allow-Origin"), "http://app.example");
  EXPECT_EQ(pre.header.GetOr("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(pre.header.GetOr("Access-Control-Allow-Methods"),
            "POST, PATCH, GET, OPTIONS, PUT, DELETE");
  EXPECT_EQ(Curl({url_ + "/"}).header.GetOr("Access-Control-Allow-Origin"), "*");
  gateway_.reset();
  StartGateway({.enable_cors = false});
  EXPECT_FALSE(Curl({url_ + "/"}).header.Contains("Access-Control-Allow-Origin"));
}

TEST_F(GatewayTest, RootAndLimits) {
  StartGateway({.max_body_bytes = 1024, .read_timeout = std::chrono::milliseconds(500)});
  auto root = Curl({url_ + "/"});
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(json::parse(root.body)["version"], kVersion);
  EXPECT_EQ(Curl({url_ + "/favicon.ico"}).status, 200);
  auto big = Curl({"-d", "request=" + std::string(4096, 'x'), url_ + "/rpc"});
  EXPECT_EQ(big.status, 413);

  // A client that sends half a request and stalls gets 408 and is disconnected.
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  sock.connect(Endpoint());
  asio::write(
      sock,
      asio::buffer(std::string("POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")));
  std::string answer;
  std::error_code ec;
  char buf[1024];
  for (;;) {
    std::size_t n = sock.read_some(asio::buffer(buf), ec);
    if (ec) break;
    answer.append(buf, n);
  }
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
}

TEST_F(GatewayTest, StreamEndpointOverWebSocket) {
  StartGateway({.handler = "rpc", .ns = "go.micro.srv"});
  std::string ws_url = "ws://" + gateway_->Addr() + "/greeter/say/stream";
  std::string script = std::string(MICRO_TEST_SOURCE_DIR) + "/api/ws_client.py";
  EXPECT_EQ(
      RunCommand("/usr/bin/python3 " + script + " " + ws_url + R"( '{"name":"a"}' '{"name":"b"}')"),
      "T {\"msg\":\"echo a\"}\nT {\"msg\":\"echo b\"}\nclosed\n");
  EXPECT_EQ(RunCommand("/usr/bin/python3 " + script + " " + ws_url +
                       R"( --protocol binary '{"name":"c"}')"),
            "B {\"msg\":\"echo c\"}\nclosed\n");
}

TEST_F(GatewayTest, ThousandConcurrentConnections) {
  StartGateway();
  asio::io_context io;
  const asio::ip::tcp::endpoint ep = Endpoint();
  std::vector<asio::ip::tcp::socket> socks;
  for (int i = 0; i < 1000; ++i) {
    socks.emplace_back(io);
    socks.back().connect(ep);
  }
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (auto& s : socks) asio::write(s, asio::buffer(get));
  int answered = 0;
  for (auto& s : socks) {
    std::string got;
    char buf[512];
    while (got.find("}") == std::string::npos) {
      std::error_code ec;
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    if (got.rfind("HTTP/1.1 200", 0) == 0) ++answered;
  }
  EXPECT_EQ(answered, 1000);
}

}  // namespace
}  // namespace micro::api
