// The `micro` program end to end: the real binary (a child process) against a real etcd and a
// real service in this process (registered in etcd, serving over HTTP on loopback), and
// against a fake go-micro server that answers with the bytes captured from go-micro
// (reference/go-micro-wire.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <micro/micro.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "codec_test.pb.h"
#include "etcd_server.h"
#include "greeter.pb.h"

namespace micro {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct RunResult {
  int code = -1;
  std::string out, err;
  Duration took{};
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the micro binary with args, `input` on its stdin and `env` added to the environment;
// killed after 30 s.
RunResult RunMicro(const std::vector<std::string>& args, const std::string& input = "",
                   const std::vector<std::string>& env = {}) {
  static std::atomic<int> seq{0};
  const std::string base =
      "/tmp/micro-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  const std::string in_path = base + ".in", out_path = base + ".out", err_path = base + ".err";
  std::ofstream(in_path, std::ios::binary) << input;
  // Everything the child needs is built before fork (no allocation between fork and exec).
  std::vector<std::string> argv{MICRO_CLI_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw_argv;
  for (auto& a : argv) raw_argv.push_back(a.data());
  raw_argv.push_back(nullptr);
  std::vector<std::string> envs(env);
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);  // earlier entries win
  std::vector<char*> raw_env;
  for (auto& e : envs) raw_env.push_back(e.data());
  raw_env.push_back(nullptr);
  const auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open(in_path.c_str(), O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(raw_argv[0], raw_argv.data(), raw_env.data());
    ::_exit(127);
  }
  RunResult r;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() - start > 30s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  r.took = Clock::now() - start;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  for (const auto& p : {in_path, out_path, err_path}) ::unlink(p.c_str());
  return r;
}

std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  return os << "exit " << r.code << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}

constexpr char kService[] = "cli.test";

// What the test service's subscriber received.
struct Inbox {
  std::mutex mu;
  std::vector<std::string> names;
  std::vector<std::string> content_types;
};

Handler TestHandler() {
  Handler h{.name = "Test"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Test.Echo", [](Context& ctx, const greeter::Request& req, greeter::Response& rsp) {
        std::string msg = "Hello " + req.name();
        if (auto trace = ctx.metadata().Get("X-Trace")) msg += " trace=" + std::string(*trace);
        rsp.set_msg(msg);
        return Status{};
      }));
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Test.Slow", [](Context& ctx, const greeter::Request&, greeter::Response& rsp) {
        const auto until = Clock::now() + 3s;
        while (Clock::now() < until && !ctx.Done()) std::this_thread::sleep_for(5ms);
        rsp.set_msg("late");
        return Status{};
      }));
  h.endpoints.push_back(UnaryEndpoint<test::Everything, test::Everything>(
      "Test.Everything", [](Context&, const test::Everything& req, test::Everything& rsp) {
        rsp = req;
        return Status{};
      }));
  Endpoint stream;
  stream.name = "Test.Stream";
  stream.kind = StreamKind::kBidiStream;
  stream.request = greeter::Request::descriptor();
  stream.response = greeter::Response::descriptor();
  stream.metadata["stream"] = "true";
  stream.sync_stream = [](Context&, ServerStream& s) {
    greeter::Request req;
    while (s.RecvMsg(req)) {
      greeter::Response rsp;
      rsp.set_msg("Hello " + req.name());
      if (Status st = s.SendMsg(rsp); !st) return st;
    }
    return s.status();
  };
  h.endpoints.push_back(std::move(stream));
  return h;
}

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    etcd_ = testing::SharedEtcd(&why);
    if (!etcd_) {
      skip_ = why;
      return;
    }
    service_ = new Service({.name = kService,
                            .version = "1.2.3",
                            .address = "127.0.0.1:0",
                            .registry = "etcd",
                            .registry_address = {etcd_->endpoint()},
                            .handle_signals = false});
    inbox_ = new Inbox;
    ASSERT_TRUE(service_->Server().Handle(TestHandler()).ok());
    ASSERT_TRUE(Subscribe<greeter::Request>(service_->Server(), "cli.events",
                                            [](Context& ctx, const greeter::Request& req) {
                                              std::lock_guard l(inbox_->mu);
                                              inbox_->names.push_back(req.name());
                                              inbox_->content_types.emplace_back(
                                                  ctx.metadata().Get("Content-Type").value_or(""));
                                              return Status{};
                                            },
                                            {})
                    .ok());
    Status s = service_->Start();
    ASSERT_TRUE(s.ok()) << s.error();
  }
  static void TearDownTestSuite() {
    if (service_) (void)service_->Stop();
    delete service_;
    service_ = nullptr;
    delete inbox_;
    inbox_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  // The plugin flags that point micro at this test's etcd.
  static std::vector<std::string> Etcd(std::vector<std::string> args) {
    args.insert(args.begin(), {"--registry=etcd", "--registry_address=" + etcd_->endpoint()});
    return args;
  }
  static std::string Address() { return service_->Server().Address(); }

  static inline testing::EtcdServer* etcd_ = nullptr;
  static inline Service* service_ = nullptr;
  static inline Inbox* inbox_ = nullptr;
  static inline std::string skip_;
};

TEST_F(CliTest, ServicesTableAndListAlias) {
  for (const auto& cmd :
       {std::vector<std::string>{"services"}, std::vector<std::string>{"list", "services"}}) {
    RunResult r = RunMicro(Etcd(cmd));
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_EQ(r.out.rfind("NAME", 0), 0u) << r;
    EXPECT_NE(r.out.find("VERSIONS"), std::string::npos) << r;
    bool found = false;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string name, versions, nodes;
      words >> name >> versions >> nodes;
      if (name == kService) {
        found = true;
        EXPECT_EQ(versions, "1.2.3");
        EXPECT_EQ(nodes, "1");
      }
    }
    EXPECT_TRUE(found) << r;
  }
}

TEST_F(CliTest, ServicesAsJsonAndFlagsAfterTheCommandAndFromEnvironment) {
  // Plugin flags after the subcommand, --output json.
  RunResult r = RunMicro({"services", "--output", "json", "--registry", "etcd",
                          "--registry_address", etcd_->endpoint()});
  ASSERT_EQ(r.code, 0) << r;
  json list = json::parse(r.out);
  ASSERT_TRUE(list.is_array());
  bool found = false;
  for (const auto& s : list) {
    if (s["name"] == kService) {
      found = true;
      EXPECT_EQ(s["versions"], json::array({"1.2.3"}));
      EXPECT_EQ(s["nodes"], 1);
    }
  }
  EXPECT_TRUE(found) << r;
  // MICRO_* variables.
  r = RunMicro({"-o", "json", "services"}, "",
               {"MICRO_REGISTRY=etcd", "MICRO_REGISTRY_ADDRESS=" + etcd_->endpoint()});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find(kService), std::string::npos) << r;
}

TEST_F(CliTest, DescribeAndGetService) {
  for (const char* verb : {"describe", "get"}) {
    RunResult r = RunMicro(Etcd({verb, "service", kService}));
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_NE(r.out.find("version  1.2.3"), std::string::npos) << r;
    EXPECT_NE(r.out.find(Address()), std::string::npos) << r;
    EXPECT_NE(r.out.find("protocol=mucp"), std::string::npos) << r;
    EXPECT_NE(r.out.find("Endpoint: Test.Echo"), std::string::npos) << r;
    EXPECT_NE(r.out.find("  name string"), std::string::npos) << r;
    EXPECT_NE(r.out.find("  msg string"), std::string::npos) << r;
    // A nested message: Everything.inner is an Inner with a value field.
    EXPECT_NE(r.out.find("  inner Everything_Inner {\n    value string"), std::string::npos) << r;
    EXPECT_NE(r.out.find("Metadata: stream=true"), std::string::npos) << r;
  }
  RunResult r = RunMicro(Etcd({"--output=json", "describe", "service", kService}));
  ASSERT_EQ(r.code, 0) << r;
  json versions = json::parse(r.out);
  ASSERT_EQ(versions.size(), 1u) << r;
  EXPECT_EQ(versions[0]["name"], kService);
  EXPECT_EQ(versions[0]["nodes"][0]["address"], Address());
  bool echo = false;
  for (const auto& e : versions[0]["endpoints"]) {
    if (e["name"] == "Test.Echo") {
      echo = true;
      EXPECT_EQ(e["request"]["values"][0]["name"], "name");
    }
  }
  EXPECT_TRUE(echo) << r;

  r = RunMicro(Etcd({"describe", "service", "no.such.service"}));
  EXPECT_EQ(r.code, 3) << r;
  EXPECT_EQ(json::parse(r.err)["code"], 404) << r;
}

TEST_F(CliTest, CallFromArgumentAndStdin) {
  RunResult r = RunMicro(Etcd({"call", kService, "Test.Echo", R"({"name":"Ada"})"}));
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "{\n  \"msg\": \"Hello Ada\"\n}\n");
  r = RunMicro(Etcd({"-o", "json", "call", kService, "Test.Echo"}), "{\"name\": \"Grace\"}\n");
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "{\"msg\":\"Hello Grace\"}\n");
}

TEST_F(CliTest, CallOneAddressWithMetadata) {
  // --address: no registry at all (memory), straight to the node.
  RunResult r = RunMicro({"--registry=memory", "call", "--address", Address(), "-m", "X-Trace=t-1",
                          "--metadata=Other=x", kService, "Test.Echo", R"({"name":"Linus"})"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(json::parse(r.out)["msg"], "Hello Linus trace=t-1");
}

TEST_F(CliTest, CallTimeoutIs408AndNonZero) {
  RunResult r = RunMicro(Etcd({"call", "--timeout", "300ms", kService, "Test.Slow", "{}"}));
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(r.out.empty()) << r;
  json err = json::parse(r.err);
  EXPECT_EQ(err["code"], 408) << r;
  EXPECT_EQ(err["status"], "Request Timeout") << r;
  EXPECT_LT(r.took, 2500ms) << r;
}

TEST_F(CliTest, ErrorsAsGoMicroJson) {
  RunResult r = RunMicro(Etcd({"call", kService, "Test.Nope", "{}"}));
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_NE(json::parse(r.err)["detail"].get<std::string>().find("Nope"), std::string::npos) << r;

  r = RunMicro(Etcd({"call", "no.such.service", "X.Y", "{}"}));
  EXPECT_EQ(r.code, 1) << r;
  json err = json::parse(r.err);
  EXPECT_EQ(err["id"], "go.micro.client") << r;
  EXPECT_EQ(err["code"], 500) << r;
  EXPECT_EQ(err["detail"], "service no.such.service: not found") << r;
  EXPECT_EQ(err["status"], "Internal Server Error") << r;
}

TEST_F(CliTest, UsageErrorsExit2) {
  EXPECT_EQ(RunMicro({}).code, 2);
  EXPECT_EQ(RunMicro({"frobnicate"}).code, 2);
  EXPECT_EQ(RunMicro({"call", kService}).code, 2);
  EXPECT_EQ(RunMicro({"--output=yaml", "services"}).code, 2);
  RunResult r = RunMicro(Etcd({"call", kService, "Test.Echo", "{not json"}));
  EXPECT_EQ(r.code, 2) << r;
  r = RunMicro({"--registry=nope", "services"});
  EXPECT_EQ(r.code, 2) << r;
  EXPECT_NE(r.err.find("unknown registry"), std::string::npos) << r;
  r = RunMicro({"call", "--timeout=soon", kService, "Test.Echo", "{}"});
  EXPECT_EQ(r.code, 2) << r;
  r = RunMicro({"--help"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("--registry_address"), std::string::npos) << r;
  EXPECT_NE(r.out.find("Registries:"), std::string::npos) << r;
  EXPECT_NE(r.out.find("etcd"), std::string::npos) << r;
}

TEST_F(CliTest, HealthCallsDebugHealthOnEveryNode) {
  RunResult r = RunMicro(Etcd({"health", kService}));
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out.rfind(std::string("service  ") + kService + "\n\n", 0), 0u) << r;
  EXPECT_NE(r.out.find("VERSION  NODE"), std::string::npos) << r;
  EXPECT_NE(r.out.find("1.2.3"), std::string::npos) << r;
  EXPECT_NE(r.out.find(Address() + "  ok"), std::string::npos) << r;
  r = RunMicro(Etcd({"-o", "json", "health", kService}));
  ASSERT_EQ(r.code, 0) << r;
  json nodes = json::parse(r.out);
  ASSERT_EQ(nodes.size(), 1u) << r;
  EXPECT_EQ(nodes[0]["status"], "ok");
  EXPECT_EQ(nodes[0]["address"], Address());
  EXPECT_EQ(nodes[0]["version"], "1.2.3");
  // One address, no registry.
  r = RunMicro({"--registry=memory", "health", "--address", Address(), kService});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(RunMicro(Etcd({"health", "no.such.service"})).code, 3);
  // A node that does not answer: its error, exit 1.
  r = RunMicro({"--registry=memory", "-o", "json", "health", "--timeout", "2s", "--address",
                "127.0.0.1:1", kService});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_EQ(json::parse(r.out)[0]["status"], "error") << r;
}

TEST_F(CliTest, StreamOneAnswerPerLine) {
  RunResult r = RunMicro(Etcd({"stream", kService, "Test.Stream"}),
                         "{\"name\":\"a\"}\n\n{\"name\": \"b\"}\n{\"name\":\"c\"}\n");
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "{\"msg\":\"Hello a\"}\n{\"msg\":\"Hello b\"}\n{\"msg\":\"Hello c\"}\n") << r;
}

TEST_F(CliTest, PublishReachesTheSubscriber) {
  RunResult r = RunMicro(Etcd({"publish", "cli.events", R"({"name":"published"})"}));
  ASSERT_EQ(r.code, 0) << r;
  const auto until = Clock::now() + 10s;
  while (Clock::now() < until) {
    {
      std::lock_guard l(inbox_->mu);
      if (!inbox_->names.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::lock_guard l(inbox_->mu);
  ASSERT_EQ(inbox_->names.size(), 1u) << r;
  EXPECT_EQ(inbox_->names[0], "published");
  EXPECT_EQ(inbox_->content_types[0], "application/json");
}

// --- a go-micro server, replayed --------------------------------------------------------

// The captured request of connection A without User-Agent, for `host` and a body.
std::string GoRequestHeaders(const std::string& host, size_t content_length) {
  return "POST / HTTP/1.1\r\nHost: " + host +
         "\r\nContent-Length: " + std::to_string(content_length) +
         "\r\nAccept: application/json\r\nContent-Type: application/json\r\nMicro-Endpoint: "
         "Greeter.Hello\r\nMicro-Id: 0\r\nMicro-Method: Greeter.Hello\r\nMicro-Service: "
         "greeter\r\nTimeout: 5000000000\r\n\r\n";
}

// Accepts one connection, reads one request, answers `response` (bytes from go-micro) and
// waits for the client to hang up.
class FakeGoServer {
 public:
  explicit FakeGoServer(std::string response) : response_(std::move(response)) {
    thread_ = std::thread([this] {
      asio::ip::tcp::socket s(io_);
      acceptor_.accept(s);
      asio::streambuf buf;
      asio::error_code ec;
      asio::read_until(s, buf, "\r\n\r\n", ec);
      std::string head(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      const auto end = head.find("\r\n\r\n") + 4;
      const auto cl = head.find("Content-Length: ");
      const size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
      if (head.size() < end + length) {
        asio::read(s, buf, asio::transfer_exactly(end + length - head.size()), ec);
      }
      request_.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
      asio::write(s, asio::buffer(response_), ec);
      char c;
      s.read_some(asio::buffer(&c, 1), ec);  // until the client closes
    });
  }
  ~FakeGoServer() {
    if (thread_.joinable()) thread_.join();
  }
  std::string host() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // The request bytes without the User-Agent line (go's is "Go-http-client/1.1").
  std::string Request() {
    thread_.join();
    std::string r = request_;
    if (auto at = r.find("User-Agent: "); at != std::string::npos) {
      r.erase(at, r.find("\r\n", at) + 2 - at);
    }
    return r;
  }

 private:
  std::string response_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::string request_;
  std::thread thread_;
};

TEST(CliGoMicroTest, CallsAGoMicroServer) {
  // Connection A's answer, byte for byte (reference/go-micro-wire.md).
  FakeGoServer go(
      "HTTP/1.1 200 OK\r\nContent-Length: 21\r\nAccept: application/json\r\nContent-Type: "
      "application/json\r\nMicro-Endpoint: Greeter.Hello\r\nMicro-Id: 0\r\nMicro-Method: "
      "Greeter.Hello\r\nMicro-Service: greeter\r\nTimeout: 5000000000\r\nUser-Agent: "
      "Go-http-client/1.1\r\n\r\n{\"msg\":\"Hello John\"}\n");
  const std::string body = R"({"name":"John"})";
  RunResult r = RunMicro(
      {"--registry=memory", "call", "--address", go.host(), "greeter", "Greeter.Hello", body});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "{\n  \"msg\": \"Hello John\"\n}\n") << r;
  // What go-micro's client sends, bar the User-Agent (the CLI sends the JSON as given).
  EXPECT_EQ(go.Request(), GoRequestHeaders(go.host(), body.size()) + body);
}

TEST(CliGoMicroTest, GoMicroErrorAsJson) {
  // Connection D's answer: an unknown endpoint, the error in headers, HTTP 200, empty body.
  FakeGoServer go(
      "HTTP/1.1 200 OK\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
      "Micro-Endpoint: Greeter.Nope\r\nMicro-Error: rpc: can't find method Nope\r\nMicro-Id: "
      "0\r\nMicro-Method: Greeter.Nope\r\nMicro-Service: greeter\r\nTimeout: 5000000000\r\n"
      "User-Agent: Go-http-client/1.1\r\nX-Micro-Error: rpc: can't find method Nope\r\n"
      "Content-Length: 0\r\n\r\n");
  RunResult r = RunMicro({"--registry=memory", "call", "--address", go.host(), "greeter",
                          "Greeter.Nope", R"({"name":"John"})"});
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_TRUE(r.out.empty()) << r;
  EXPECT_EQ(json::parse(r.err)["detail"], "rpc: can't find method Nope") << r;
  (void)go.Request();
}

}  // namespace
}  // namespace micro
