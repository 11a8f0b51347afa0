// How many threads the library starts, and that open sync streams never starve unary handlers.
#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "micro/runtime.h"
#include "micro/service.h"
#include "rpc/rpc_test_util.h"
#include "util/worker_pool.h"

namespace micro {
namespace {

using namespace std::chrono_literals;

// Thread name -> count, from /proc/self/task/*/comm.
std::map<std::string, int> ThreadsByName() {
  std::map<std::string, int> out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    ++out[name];
  }
  closedir(dir);
  return out;
}

int Total(const std::map<std::string, int>& threads) {
  int n = 0;
  for (const auto& [name, count] : threads) n += count;
  return n;
}

std::string Describe(const std::map<std::string, int>& threads) {
  std::string out;
  for (const auto& [name, count] : threads) out += name + "=" + std::to_string(count) + " ";
  return out;
}

// Threads that come and go on their own (an IoThread's short-lived reaper) settle quickly.
std::map<std::string, int> SettledThreads() {
  std::this_thread::sleep_for(50ms);
  return ThreadsByName();
}

class ThreadCountTest : public ::testing::TestWithParam<std::size_t> {};

// A greeter service with N I/O threads: registered, serving, and having served a sync call
// (through its own client, so the selector's registry cache runs too) runs at most N + 4
// threads of its own: the N I/O threads, one handler thread (the pool grows only as calls
// overlap), the registry's (memory pruner or mDNS), the registry cache's watch and the
// process's accept thread (one for every listener of the process: transport/accept_thread.h).
// The broker starts nothing until it is used and re-registration is a timer, not a thread.
//
// The count is relative to a baseline taken before the service is built, so the test runner's
// own threads (main, and any another test left behind) are not counted.
TEST_P(ThreadCountTest, GreeterServiceRunsAtMostNPlus4Threads) {
  const std::size_t n = GetParam();
  // TSan starts a background thread of its own at the process's first pthread_create: make it
  // exist before the baseline (ctest runs this test alone in a fresh process).
  std::thread([] {}).join();
  const auto before = SettledThreads();
  {
    Service svc({.name = "greeter.threads",
                 .address = "127.0.0.1:0",
                 .registry = "memory",
                 .threads = n,
                 .handle_signals = false});
    ASSERT_TRUE(svc.Init({}, [](const std::string&) { return std::optional<std::string>(); }).ok());
    ASSERT_TRUE(svc.Server().Handle(testing_util::GreeterHandler()).ok());
    ASSERT_TRUE(svc.Start().ok());
    Context ctx;
    greeter::Request req;
    req.set_name("threads");
    auto rsp = Call<greeter::Response>(*svc.Client(), ctx, "greeter.threads", "Greeter.Hello", req);
    ASSERT_TRUE(rsp.ok()) << rsp.error();
    EXPECT_EQ(rsp->msg(), "Hello threads");

    const auto during = SettledThreads();
    const int added = Total(during) - Total(before);
    EXPECT_LE(added, static_cast<int>(n) + 4)
        << "before: " << Describe(before) << "\nduring: " << Describe(during);
    EXPECT_EQ(during.count("micro-io") ? during.at("micro-io") : 0,
              (before.count("micro-io") ? before.at("micro-io") : 0) + static_cast<int>(n));
    EXPECT_EQ(during.count("micro-broker"), before.count("micro-broker"))
        << "the broker's pool started though no broker was used";
    std::printf("threads with %zu I/O threads: +%d (%s)\n", n, added, Describe(during).c_str());
    ASSERT_TRUE(svc.Stop().ok());
  }
}

INSTANTIATE_TEST_SUITE_P(IoThreads, ThreadCountTest, ::testing::Values(1u, 4u));

TEST(WorkerPoolTest, StartsThreadsOnDemandAndBoundsPost) {
  util::WorkerPool pool(2, "test-pool", 50ms);
  EXPECT_EQ(pool.threads(), 0u);
  std::promise<void> one;
  pool.Post([&] { one.set_value(); });
  one.get_future().wait();
  std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pool.threads(), 1u);  // the second task reuses the idle thread
  std::promise<void> two;
  pool.Post([&] { two.set_value(); });
  two.get_future().wait();
  EXPECT_EQ(pool.threads(), 1u);

  // Two blocked bounded tasks fill the pool; a third waits for one of them.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  for (int i = 0; i < 2; ++i) {
    pool.Post([&, released] {
      released.wait();
      ++ran;
    });
  }
  std::atomic<bool> third{false};
  pool.Post([&] { third = true; });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(third.load());
  EXPECT_EQ(pool.threads(), 2u);
  // Long work does not wait for a slot: it gets a thread beyond the bound.
  std::promise<void> long_ran;
  pool.PostLong([&] { long_ran.set_value(); });
  EXPECT_EQ(long_ran.get_future().wait_for(5s), std::future_status::ready);
  release.set_value();
  pool.Join();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_TRUE(third.load());
  EXPECT_EQ(pool.threads(), 0u);
}

TEST(WorkerPoolTest, ThreadsBeyondTheBoundExitWhenIdle) {
  util::WorkerPool pool(1, "test-pool", 20ms);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    pool.PostLong([&, released] {
      ++started;
      released.wait();
    });
  }
  for (int i = 0; i < 500 && started.load() < 3; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(pool.threads(), 3u);
  release.set_value();
  for (int i = 0; i < 500 && pool.threads() > 1; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(pool.threads(), 1u);  // the bound stays
}

// Handlers for the starvation test: a sync stream that waits for its client, and Hello.
Handler IdleStreamer(std::atomic<int>& open) {
  Handler h{.name = "Idle"};
  h.endpoints.push_back(StreamEndpoint<greeter::Request, greeter::Response>(
      "Idle.Wait", StreamKind::kBidiStream,
      [&open](Context&, TypedServerStream<greeter::Request, greeter::Response>& s) {
        ++open;
        greeter::Request req;
        while (s.Recv(req)) {
        }
        --open;
        return s.status();
      }));
  return h;
}

// A server with two handler threads and more idle sync streams open than that: a sync unary
// call still completes (each stream handler has a thread of its own, outside the bound).
TEST(SyncStreamTest, IdleStreamsDoNotStarveUnaryHandlers) {
  auto p = testing_util::RpcPair::Make("http", {.name = "greeter", .handler_threads = 2});
  std::atomic<int> open{0};
  ASSERT_TRUE(p.server->Handle(testing_util::GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Handle(IdleStreamer(open)).ok());
  ASSERT_TRUE(p.server->Start().ok());

  Context ctx;
  std::vector<TypedClientStream<greeter::Request, greeter::Response>> streams;
  for (int i = 0; i < 3; ++i) {
    auto s =
        OpenStream<greeter::Request, greeter::Response>(*p.client, ctx, "greeter", "Idle.Wait");
    ASSERT_TRUE(s.ok()) << s.error();
    greeter::Request hello;
    hello.set_name("open");
    ASSERT_TRUE(s->Send(hello).ok());
    streams.push_back(std::move(*s));
  }
  for (int i = 0; i < 1000 && open.load() < 3; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(open.load(), 3) << "every stream handler is running";

  greeter::Request req;
  req.set_name("unstarved");
  Context call_ctx;
  auto rsp = Call<greeter::Response>(*p.client, call_ctx, "greeter", "Greeter.Hello", req,
                                     {.retries = 0, .request_timeout = 5s});
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello unstarved");

  for (auto& s : streams) (void)s.Close();
  for (int i = 0; i < 1000 && open.load() > 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(open.load(), 0);
  ASSERT_TRUE(p.server->Stop().ok());
}

// Where a sync handler runs: the handler pool by default; the I/O thread that read the request
// when the handler is declared non-blocking (per handler, or server-wide by flag). A blocking
// client call made from an inline handler fails at once instead of stalling the I/O thread.
struct InlineCase {
  const char* name;
  bool handler_non_blocking;
  const char* flag;  // --server_inline_handlers
  bool expect_io_thread;
};

void PrintTo(const InlineCase& c, std::ostream* os) { *os << c.name; }

class InlineHandlerTest : public ::testing::TestWithParam<InlineCase> {};

TEST_P(InlineHandlerTest, SyncHandlerRunsWhereDeclared) {
  const InlineCase c = GetParam();
  Service svc({.name = "greeter.inline",
               .address = "127.0.0.1:0",
               .registry = "memory",
               .threads = 2,
               .handle_signals = false});
  ASSERT_TRUE(svc.Init({"--server_inline_handlers", c.flag},
                       [](const std::string&) { return std::optional<std::string>(); })
                  .ok());
  std::atomic<int> on_io{-1};
  std::atomic<bool> blocking_call_refused{false};
  std::shared_ptr<Client> client;
  Handler h = testing_util::GreeterHandler([&](Context& ctx, const greeter::Request& req) {
    on_io = Runtime::InIoThread() ? 1 : 0;
    if (req.name() == "nested") {
      // A sync call from the handler: fine on the pool, refused on an I/O thread.
      greeter::Request inner;
      inner.set_name("inner");
      auto r = Call<greeter::Response>(*client, ctx, "greeter.inline", "Greeter.Hello", inner);
      blocking_call_refused = !r.ok();
    }
    return Status{};
  });
  HandlerOptions ho;
  ho.non_blocking = c.handler_non_blocking;
  ApplyHandlerOptions(h, ho);
  ASSERT_TRUE(svc.Server().Handle(std::move(h)).ok());
  ASSERT_TRUE(svc.Start().ok());
  client = svc.Client();

  Context ctx;
  greeter::Request req;
  req.set_name("where");
  auto rsp = Call<greeter::Response>(*client, ctx, "greeter.inline", "Greeter.Hello", req);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello where");
  EXPECT_EQ(on_io.load(), c.expect_io_thread ? 1 : 0);

  req.set_name("nested");
  CallOptions once;
  once.retries = 0;
  rsp = Call<greeter::Response>(*client, ctx, "greeter.inline", "Greeter.Hello", req, once);
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(blocking_call_refused.load(), c.expect_io_thread);
  ASSERT_TRUE(svc.Stop().ok());
}

INSTANTIATE_TEST_SUITE_P(Placement, InlineHandlerTest,
                         ::testing::Values(InlineCase{"Pool", false, "false", false},
                                           InlineCase{"HandlerDeclared", true, "false", true},
                                           InlineCase{"ServerFlag", false, "true", true}),
                         [](const ::testing::TestParamInfo<InlineCase>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace micro
