// End to end over the memory and HTTP transports: unary calls in every form, errors, metadata,
// deadlines, retries, wrappers, streaming, and shutdown with calls in flight.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_future.hpp>
#include <future>

#include "micro/plugin/io.h"
#include "micro/runtime.h"
#include "micro/transport.h"
#include "registry/counting_registry.h"
#include "rpc/rpc_test_util.h"

namespace micro {
namespace {

using namespace std::chrono_literals;
using testing_util::GreeterHandler;
using testing_util::RpcPair;

class RpcTest : public ::testing::TestWithParam<std::string> {};

greeter::Request Named(std::string name) {
  greeter::Request r;
  r.set_name(std::move(name));
  return r;
}

TEST_P(RpcTest, UnaryCallThroughTheRegistry) {
  auto p = RpcPair::Make(GetParam());
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  for (const char* ct : {"application/json", "application/protobuf", "application/grpc+proto",
                         "application/json-rpc", "application/proto-rpc"}) {
    auto rsp = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("John"),
                                       {.content_type = ct});
    ASSERT_TRUE(rsp.ok()) << ct << " " << rsp.error();
    EXPECT_EQ(rsp->msg(), "Hello John") << ct;
  }
  EXPECT_TRUE(p.server->Stop().ok());
}

TEST_P(RpcTest, CoroutineAndCallbackForms) {
  auto p = RpcPair::Make(GetParam());
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  auto fut = asio::co_spawn(
      p.client->executor(),
      AsyncCall<greeter::Response>(*p.client, Context(), "greeter", "Greeter.Hello", Named("Co")),
      asio::use_future);
  auto rsp = fut.get();
  ASSERT_TRUE(rsp.ok()) << rsp.error();
  EXPECT_EQ(rsp->msg(), "Hello Co");

  std::promise<Result<greeter::Response>> done;
  CallWithCallback<greeter::Response>(
      *p.client, Context(), "greeter", "Greeter.Hello", Named("Cb"),
      [&](Result<greeter::Response> r) { done.set_value(std::move(r)); });
  auto cb = done.get_future().get();
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->msg(), "Hello Cb");
}

TEST_P(RpcTest, HandlerErrorsArriveAsTheyWereSent) {
  auto p = RpcPair::Make(GetParam());
  ASSERT_TRUE(p.server
                  ->Handle(GreeterHandler([](Context&, const greeter::Request& r) -> Status {
                    if (r.name().empty()) return errors::BadRequest("greeter", "name is required");
                    if (r.name() == "throw") throw std::runtime_error("kaboom");
                    return {};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  auto bad = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named(""));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), errors::BadRequest("greeter", "name is required"));
  auto thrown = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("throw"));
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().code, 500);
  EXPECT_EQ(thrown.error().detail, "kaboom");
  auto missing = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Nope", Named("x"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().detail, "rpc: can't find method Nope");
  auto unknown = Call<greeter::Response>(*p.client, ctx, "nobody", "Greeter.Hello", Named("x"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().detail, "service nobody: not found");
}

TEST_P(RpcTest, MetadataTravelsAndServerAddsLocalRemote) {
  auto p = RpcPair::Make(GetParam());
  std::string seen_auth, seen_remote;
  ASSERT_TRUE(p.server
                  ->Handle(GreeterHandler([&](Context& ctx, const greeter::Request&) {
                    seen_auth = ctx.metadata().GetOr("authorization");
                    seen_remote = ctx.metadata().GetOr("Remote");
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  ctx.metadata().Set("Authorization", "Bearer t");
  ASSERT_TRUE(Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("m")).ok());
  EXPECT_EQ(seen_auth, "Bearer t");
  EXPECT_FALSE(seen_remote.empty());
}

TEST_P(RpcTest, DeadlinesPropagateAndTimeoutsSayWhichFired) {
  auto p = RpcPair::Make(GetParam());
  std::atomic<int64_t> remaining_ms{-1};
  ASSERT_TRUE(p.server
                  ->Handle(GreeterHandler([&](Context& ctx, const greeter::Request& r) {
                    if (auto left = ctx.remaining()) {
                      remaining_ms =
                          std::chrono::duration_cast<std::chrono::milliseconds>(*left).count();
                    }
                    if (r.name() == "slow") std::this_thread::sleep_for(500ms);
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  ASSERT_TRUE(Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("a"),
                                      {.connection_timeout = 2s})
                  .ok());
  EXPECT_GT(remaining_ms.load(), 1000);  // the Timeout header became the handler's deadline
  EXPECT_LE(remaining_ms.load(), 2000);

  const auto start = Clock::now();
  auto late = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("slow"),
                                      {.retries = 0, .connection_timeout = 100ms});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, 408);
  EXPECT_NE(late.error().detail.find("connection timeout 100ms"), std::string::npos)
      << late.error().detail;
  EXPECT_LT(Clock::now() - start, 450ms);

  auto whole = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("slow"),
                                       {.request_timeout = 150ms});
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().code, 408);
  // The slow handlers still run (the client gave up, the server did not): Stop drains them
  // before remaining_ms goes out of scope.
  EXPECT_TRUE(p.server->Stop().ok());
}

TEST_P(RpcTest, WrappersRunInGoMicroOrder) {
  std::vector<std::string> order;
  std::mutex mu;
  auto tag = [&](std::string name) -> HandlerWrapper {
    return [&, name](HandlerFunc next) -> HandlerFunc {
      return [&, name, next](Context& ctx, const ServerRequest& req,
                             google::protobuf::Message& rsp) -> asio::awaitable<Status> {
        {
          std::lock_guard l(mu);
          order.push_back(name + ">" + std::string(req.endpoint));
        }
        co_return co_await next(ctx, req, rsp);
      };
    };
  };
  auto p = RpcPair::Make(GetParam(), {.wrappers = {tag("outer"), tag("inner")}});
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  ASSERT_TRUE(Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("w")).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"outer>Greeter.Hello", "inner>Greeter.Hello"}));
}

TEST_P(RpcTest, RegistersEndpointsAndNodeMetadata) {
  auto p = RpcPair::Make(GetParam(), {.metadata = {{"zone", "a"}}});
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  auto found = p.registry->GetService("greeter");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  const auto& svc = (*found)[0];
  EXPECT_EQ(svc.version, "latest");
  ASSERT_EQ(svc.nodes.size(), 1u);
  EXPECT_EQ(svc.nodes[0].id, "greeter-" + DefaultServerId());
  EXPECT_EQ(svc.nodes[0].address, p.server->Address());
  EXPECT_EQ(svc.nodes[0].metadata.at("protocol"), "mucp");
  EXPECT_EQ(svc.nodes[0].metadata.at("server"), "mucp");
  EXPECT_EQ(svc.nodes[0].metadata.at("transport"), GetParam());
  EXPECT_EQ(svc.nodes[0].metadata.at("registry"), "memory");
  EXPECT_EQ(svc.nodes[0].metadata.at("zone"), "a");
  ASSERT_EQ(svc.endpoints.size(), 1u);
  // As go-micro's captured registration of the same greeter.
  EXPECT_EQ(
      registry::ToJson(svc.endpoints[0]),
      R"({"request":{"name":"Request","type":"Request","values":[{"name":"name","type":"string","values":null}]},"response":{"name":"Response","type":"Response","values":[{"name":"msg","type":"string","values":null}]},"metadata":{},"name":"Greeter.Hello"})");
  ASSERT_TRUE(p.server->Stop().ok());
  EXPECT_FALSE(p.registry->GetService("greeter").ok());  // deregistered
}

TEST_P(RpcTest, RetriesOnAnotherNodeWhenOneIsDown) {
  auto p = RpcPair::Make(GetParam());
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  // A second, dead node of the same service.
  registry::Service dead{.name = "greeter",
                         .version = "latest",
                         .nodes = {{.id = "greeter-dead",
                                    .address = GetParam() == "http" ? "127.0.0.1:1" : "127.0.0.1:9",
                                    .metadata = {{"protocol", "mucp"}}}}};
  ASSERT_TRUE(p.registry->Register(dead).ok());
  Context ctx;
  for (int i = 0; i < 20; ++i) {
    auto rsp = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("r"),
                                       {.backoff = [](int) { return Duration::zero(); }});
    ASSERT_TRUE(rsp.ok()) << rsp.error();
  }
}

TEST_P(RpcTest, SyncCallFromAnIoThreadIsAnErrorNotADeadlock) {
  auto p = RpcPair::Make(GetParam());
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  std::promise<Status> result;
  asio::post(Runtime::Default().executor(), [&] {
    Context ctx;
    auto r = Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("x"));
    result.set_value(r.status());
  });
  auto status = result.get_future().get();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().detail.find("I/O thread"), std::string::npos);
}

TEST_P(RpcTest, ShutdownDrainsCallsInFlight) {
  auto p = RpcPair::Make(GetParam(), {.drain_timeout = 3s});
  std::atomic<int> started{0};
  ASSERT_TRUE(p.server
                  ->Handle(GreeterHandler([&](Context&, const greeter::Request&) {
                    started++;
                    std::this_thread::sleep_for(300ms);
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());
  std::vector<std::future<Result<greeter::Response>>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      Context ctx;
      return Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("d"),
                                     {.retries = 0});
    }));
  }
  while (started < 4) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(p.server->Stop().ok());
  for (auto& c : calls) {
    auto r = c.get();
    EXPECT_TRUE(r.ok()) << r.error();
  }
}

TEST_P(RpcTest, CallWrappersRunOutermostFirstAroundEachAttempt) {
  std::vector<std::string> order;
  auto tag = [&](std::string name) -> CallWrapper {
    return [&, name](CallFunc next) -> CallFunc {
      return [&, name, next](Context& ctx, const registry::Node& node, const ClientRequest& req,
                             codec::ReadBody rsp) -> asio::awaitable<Status> {
        order.push_back(name + ">" + req.endpoint);
        co_return co_await next(ctx, node, req, rsp);
      };
    };
  };
  auto p =
      RpcPair::Make(GetParam(), {}, {.call_wrappers = {tag("client-outer"), tag("client-inner")}});
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  CallOptions opts;
  opts.call_wrappers = {tag("call")};
  ASSERT_TRUE(
      Call<greeter::Response>(*p.client, ctx, "greeter", "Greeter.Hello", Named("w"), opts).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"client-outer>Greeter.Hello",
                                             "client-inner>Greeter.Hello", "call>Greeter.Hello"}));
}

TEST_P(RpcTest, ReRegistersWithinTheTtl) {
  auto p = RpcPair::Make(GetParam(), {.register_ttl = 1s, .register_interval = 200ms});
  ASSERT_TRUE(p.server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(p.server->Start().ok());
  std::this_thread::sleep_for(1500ms);  // past the TTL: only re-registration keeps it there
  EXPECT_TRUE(p.registry->GetService("greeter").ok());
  ASSERT_TRUE(p.server->Stop().ok());
}

TEST_P(RpcTest, SyncHandlersRunOffTheIoThreadsCoroutineHandlersOnThem) {
  Runtime runtime(2);
  auto p = RpcPair::Make(GetParam(), {}, {}, {.executor = runtime.executor()});
  std::atomic<int> sync_on_io{-1}, async_on_io{-1};
  Handler h{.name = "Threads"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Threads.Sync", [&](Context&, const greeter::Request&, greeter::Response&) {
        sync_on_io = Runtime::InIoThread();
        return Status{};
      }));
  h.endpoints.push_back(AsyncUnaryEndpoint<greeter::Request, greeter::Response>(
      "Threads.Async",
      [&](Context&, const greeter::Request&, greeter::Response&) -> asio::awaitable<Status> {
        async_on_io = Runtime::InIoThread();
        co_return Status{};
      }));
  ASSERT_TRUE(p.server->Handle(std::move(h)).ok());
  ASSERT_TRUE(p.server->Start().ok());
  Context ctx;
  ASSERT_TRUE(Call<greeter::Response>(*p.client, ctx, "greeter", "Threads.Sync", Named("t")).ok());
  ASSERT_TRUE(Call<greeter::Response>(*p.client, ctx, "greeter", "Threads.Async", Named("t")).ok());
  EXPECT_EQ(sync_on_io.load(), 0);
  EXPECT_EQ(async_on_io.load(), 1);
  ASSERT_TRUE(p.server->Stop().ok());
}

// On a one-thread Runtime the client runs each exchange in place instead of hopping onto the
// pooled socket's strand; calls in flight together, and attempt timeouts that close sockets
// under them, must still be safe (this test is what TSan and ASan see of that path).
TEST_P(RpcTest, OneThreadRuntimeCallsInPlaceWithTimeouts) {
  Runtime one(1), two(2);
  EXPECT_TRUE(plugin::OnSameSingleThread(one.executor(), plugin::MakeStrand(one.executor())));
  // Two threads are two loops: each single-threaded, and Spread takes turns between them.
  EXPECT_TRUE(plugin::OnSameSingleThread(two.executor(), plugin::MakeStrand(two.executor())));
  const auto first = plugin::Spread(two.executor()), second = plugin::Spread(two.executor());
  EXPECT_FALSE(plugin::OnSameSingleThread(first, second));
  EXPECT_TRUE(plugin::OnSameSingleThread(first, plugin::Spread(two.executor())));
  EXPECT_TRUE(plugin::SameRuntime(first, second));
  EXPECT_FALSE(plugin::SameRuntime(one.executor(), two.executor()));
  EXPECT_FALSE(plugin::OnSameSingleThread(one.executor(), two.executor()));
  EXPECT_TRUE(plugin::OnSameSingleThread(one.executor(), plugin::Spread(one.executor())));

  auto p =
      RpcPair::Make(GetParam(), {}, {.executor = one.executor()}, {.executor = one.executor()});
  ASSERT_TRUE(p.server
                  ->Handle(GreeterHandler([](Context&, const greeter::Request& r) {
                    if (r.name() == "slow") std::this_thread::sleep_for(100ms);
                    return Status{};
                  }))
                  .ok());
  ASSERT_TRUE(p.server->Start().ok());

  constexpr int kCalls = 40;  // every eighth one times out
  std::vector<std::future<Result<greeter::Response>>> calls;
  for (int i = 0; i < kCalls; ++i) {
    const bool slow = i % 8 == 0;
    calls.push_back(asio::co_spawn(
        one.executor(),
        AsyncCall<greeter::Response>(*p.client, Context(), "greeter", "Greeter.Hello",
                                     Named(slow ? "slow" : "n" + std::to_string(i)),
                                     {.retries = 0, .connection_timeout = slow ? 30ms : 5s}),
        asio::use_future));
  }
  for (int i = 0; i < kCalls; ++i) {
    auto r = calls[i].get();
    if (i % 8 == 0) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, 408) << r.error();
    } else {
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(r->msg(), "Hello n" + std::to_string(i));
    }
  }
  EXPECT_TRUE(p.server->Stop().ok());  // drains the slow handlers
}

INSTANTIATE_TEST_SUITE_P(Transports, RpcTest, ::testing::Values("memory", "http"));

// A registry miss suspends the call, not the I/O thread it runs on: with a Runtime of one I/O
// thread and the registry lookup held (a slow mDNS lookup), a timer on that thread still fires,
// and 32 calls in flight share one registry lookup.
TEST(ClientSelectTest, RegistryMissSuspendsTheCallNotTheIoThread) {
  Runtime one(1);
  auto transport = *Transports().Create("memory", {.executor = one.executor()});
  auto counting = std::make_shared<testing_util::CountingRegistry>();
  auto server = *NewServer(
      {.name = "greeter", .address = "127.0.0.1:0", .transport = transport, .registry = counting});
  ASSERT_TRUE(server->Handle(GreeterHandler()).ok());
  ASSERT_TRUE(server->Start().ok());
  auto client = *NewClient({.transport = transport,
                            .selector = *NewSelector({.registry = counting}),
                            .executor = one.executor()});
  counting->delay = 200ms;
  counting->CloseGate();

  constexpr int kCalls = 32;
  std::vector<std::future<Result<greeter::Response>>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(asio::co_spawn(
        one.executor(),
        AsyncCall<greeter::Response>(*client, Context(), "greeter", "Greeter.Hello", Named("miss")),
        asio::use_future));
  }
  std::promise<void> fired;
  asio::steady_timer timer(one.context(), 10ms);
  timer.async_wait([&](std::error_code) { fired.set_value(); });
  const bool responsive = fired.get_future().wait_for(5s) == std::future_status::ready;
  const int done_while_held = counting->lookups_done;
  counting->OpenGate();  // (before any assertion: a blocked I/O thread must be let go)
  EXPECT_TRUE(responsive) << "the I/O thread was blocked by the registry lookup";
  EXPECT_EQ(done_while_held, 0);
  for (auto& call : calls) {
    auto rsp = call.get();
    ASSERT_TRUE(rsp.ok()) << rsp.error();
    EXPECT_EQ(rsp->msg(), "Hello miss");
  }
  EXPECT_EQ(counting->lookups, 1);
  EXPECT_TRUE(server->Stop().ok());
}

TEST(ClientDefaultsTest, AsGoMicro) {
  ClientOptions o;
  EXPECT_EQ(o.content_type, "application/json");
  EXPECT_EQ(o.retries, 5);
  EXPECT_EQ(o.request_timeout, 30s);
  EXPECT_EQ(o.connection_timeout, 5s);
  EXPECT_EQ(o.dial_timeout, 5s);
  EXPECT_EQ(o.pool_size, 100u);
  EXPECT_EQ(o.pool_ttl, 1min);
  // attempt^e x 100 ms
  EXPECT_EQ(DefaultBackoff(0), Duration::zero());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(DefaultBackoff(1)).count(), 100);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(DefaultBackoff(2)).count(), 658);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(DefaultBackoff(3)).count(), 1981);
  EXPECT_EQ(DefaultBackoff(14), 2min);
  EXPECT_TRUE(DefaultRetry(errors::Timeout("x", "late"), 0));
  EXPECT_TRUE(
      DefaultRetry(errors::InternalServerError("go.micro.client", "connection error: refused"), 0));
  EXPECT_FALSE(DefaultRetry(errors::InternalServerError("greeter", "boom"), 0));
  ServerOptions s;
  EXPECT_EQ(s.register_ttl, 90s);
  EXPECT_EQ(s.register_interval, 30s);
  EXPECT_EQ(s.version, "latest");
}

}  // namespace
}  // namespace micro
