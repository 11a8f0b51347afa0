// micro web in a real browser: headless Chromium (Debian's chromium + chromium-driver, driven
// by tests/web/browser_check.py through the WebDriver protocol) against the real `micro web`
// program on a real etcd, with a greeter served by this process and services whose names are
// markup registered next to it. Screenshots go to <build>/test-artifacts/web/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "etcd_server.h"
#include "greeter.pb.h"
#include "micro/errors.h"
#include "micro/handler.h"
#include "micro/registry.h"
#include "micro/service.h"
#include "support/curl.h"
#include "support/server_process.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

TEST(WebBrowserTest, DashboardListsCallsAndEscapesInChromium) {
  for (const char* tool : {"/usr/bin/chromium", "/usr/bin/chromedriver"}) {
    if (::access(tool, X_OK) != 0) {
      GTEST_SKIP() << tool << " is not installed: the browser test needs Debian's chromium and "
                   << "chromium-driver (scripts/deps.sh installs them)";
    }
  }
  std::string why;
  auto* etcd = testing::SharedEtcd(&why);
  if (!etcd) GTEST_SKIP() << why;
  const std::string reg = "--registry=etcd";
  const std::string reg_addr = "--registry_address=" + etcd->endpoint();

  // The greeter, as examples/greeter serves it.
  Service greeter({.name = "greeter",
                   .address = "127.0.0.1:0",
                   .registry = "etcd",
                   .registry_address = {etcd->endpoint()},
                   .handle_signals = false});
  Handler hello{.name = "Greeter"};
  hello.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [](Context&, const greeter::Request& req, greeter::Response& rsp) {
        if (req.name().empty()) return Status(errors::BadRequest("greeter", "name is required"));
        rsp.set_msg("Hello " + req.name());
        return Status{};
      }));
  ASSERT_TRUE(greeter.Server().Handle(std::move(hello)).ok());
  ASSERT_TRUE(greeter.Start().ok());
  const uint16_t port = testing::FreePort();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  testing::ServerProcess web("micro-web",
                             {MICRO_BINARY, reg, reg_addr, "web", "--address",
                              "127.0.0.1:" + std::to_string(port), "--poll_interval", "2s"});
  ASSERT_TRUE(web.Start()) << web.Log();
  ASSERT_TRUE(web.WaitForPort(port, 15s)) << web.Log();

  // Names that are markup, straight into the registry as a careless (or hostile) service would.
  auto registry = Registries().Create("etcd", {.addrs = {etcd->endpoint()}});
  ASSERT_TRUE(registry.ok()) << registry.error();
  const std::vector<std::string> markup = {"<script>alert(1)</script>",
                                           R"(<img src=x onerror="window.__xss=1">)"};
  for (std::size_t i = 0; i < markup.size(); ++i) {
    registry::Service svc{.name = markup[i], .version = "<b>1</b>"};
    svc.nodes.push_back({.id = "markup-" + std::to_string(i),
                         .address = "127.0.0.1:1",
                         .metadata = {{"note", "<i>not markup</i>"}}});
    ASSERT_TRUE((*registry)->Register(svc, {.ttl = 120s}).ok());
  }
  // The greeter is registered before the browser looks.
  const auto until = Clock::now() + 20s;
  while (Clock::now() < until && testing::Curl({url + "/registry?service=greeter"}).status != 200) {
    std::this_thread::sleep_for(50ms);
  }

  const std::string artifacts = MICRO_TEST_ARTIFACTS "/web";
  std::filesystem::create_directories(artifacts);
  // A service that comes and goes while the page is open: a sidecar registering an app.
  const std::string live_cmd = std::string(MICRO_BINARY) + " " + reg + " " + reg_addr +
                               " sidecar --address 127.0.0.1:0 --app_name live.greeter"
                               " --app_address 127.0.0.1:1";
  std::vector<std::string> argv{"/usr/bin/python3",
                                MICRO_TEST_SOURCE_DIR "/web/browser_check.py",
                                "--url",
                                url,
                                "--artifacts",
                                artifacts,
                                "--live-cmd",
                                live_cmd};
  for (const auto& name : markup) {
    argv.push_back("--xss");
    argv.push_back(name);
  }
  auto run = testing::RunProgram(argv, 240s);
  std::cout << run.output;
  EXPECT_EQ(run.code, 0) << run.output << "\n--- micro web:\n" << web.Log();
  for (const char* shot : {"services.png", "call.png", "markup-name.png", "registry.png",
                           "services-phone.png", "service-phone.png"}) {
    EXPECT_TRUE(std::filesystem::exists(artifacts + "/" + shot)) << shot;
  }
  for (std::size_t i = 0; i < markup.size(); ++i) {
    registry::Service svc{.name = markup[i], .version = "<b>1</b>"};
    svc.nodes.push_back({.id = "markup-" + std::to_string(i), .address = "127.0.0.1:1"});
    (void)(*registry)->Deregister(svc);
  }
  (void)greeter.Stop();
}

}  // namespace
}  // namespace micro
