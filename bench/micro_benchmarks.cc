// Google Benchmark microbenchmarks for the pieces on every call's path: HTTP/1.1 parse and
// write, each codec, the Metadata header map, selector Next, and a whole call in process over
// the memory transport. Run: build/default/bench/micro_benchmarks [--benchmark_filter=Http].
#include <benchmark/benchmark.h>
#include <micro/micro.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "echo.micro.h"
#include "transport/http_wire.h"

namespace {

micro::Metadata RequestHeader() {
  micro::Metadata h;
  h.Set("Content-Type", "application/protobuf");
  h.Set("Accept", "application/protobuf");
  h.Set("Timeout", "5000000000");
  h.Set("Micro-Id", "12345");
  h.Set("Micro-Service", "echo");
  h.Set("Micro-Method", "Echo.Call");
  h.Set("Micro-Endpoint", "Echo.Call");
  return h;
}

std::string RequestBytes(std::size_t body) {
  std::string out;
  micro::http::AppendRequestHead(out, "127.0.0.1:9090", RequestHeader(), body, false);
  out.append(body, 'x');
  return out;
}

std::string ResponseBytes(std::size_t body) {
  micro::Metadata rsp;
  rsp.Set("Content-Type", "application/protobuf");
  rsp.Set("Micro-Id", "12345");
  const micro::Metadata first = RequestHeader();
  std::string out;
  micro::http::AppendResponseHead(out, &first, rsp, body);
  out.append(body, 'x');
  return out;
}

void ParseLoop(benchmark::State& state, micro::http::HttpParser::Kind kind,
               const std::string& wire) {
  micro::http::HttpParser parser(kind, 64 * 1024, 64 * 1024 * 1024);
  micro::Message msg;
  for (auto _ : state) {
    parser.Start(&msg);
    std::size_t used = 0;
    auto st = parser.Parse(wire.data(), wire.size(), &used);
    if (st != micro::http::ParseStatus::kComplete) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(msg);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}

void BM_HttpParseRequest(benchmark::State& state) {
  ParseLoop(state, micro::http::HttpParser::Kind::kRequest,
            RequestBytes(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_HttpParseRequest)->Arg(64)->Arg(64 * 1024);

void BM_HttpParseResponse(benchmark::State& state) {
  ParseLoop(state, micro::http::HttpParser::Kind::kResponse,
            ResponseBytes(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_HttpParseResponse)->Arg(64)->Arg(64 * 1024);

void BM_HttpWriteRequestHead(benchmark::State& state) {
  const micro::Metadata h = RequestHeader();
  std::string out;
  for (auto _ : state) {
    out.clear();
    micro::http::AppendRequestHead(out, "127.0.0.1:9090", h, 64, false);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HttpWriteRequestHead);

void BM_HttpWriteResponseHead(benchmark::State& state) {
  const micro::Metadata first = RequestHeader();
  micro::Metadata h;
  h.Set("Content-Type", "application/protobuf");
  h.Set("Micro-Id", "12345");
  std::string out;
  for (auto _ : state) {
    out.clear();
    micro::http::AppendResponseHead(out, &first, h, 64);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_HttpWriteResponseHead);

const std::vector<std::string>& ContentTypes() {
  static const std::vector<std::string> types = {"application/protobuf",     "application/json",
                                                 "application/octet-stream", "application/json-rpc",
                                                 "application/proto-rpc",    "application/grpc"};
  return types;
}

void CodecWrite(benchmark::State& state) {
  const auto& ct = ContentTypes()[static_cast<std::size_t>(state.range(0))];
  auto codec = micro::codec::Lookup(ct);
  state.SetLabel(ct);
  echo::Request req;
  req.set_payload(std::string(static_cast<std::size_t>(state.range(1)), 'x'));
  micro::codec::Frame frame{req.SerializeAsString()};
  const bool raw = ct == "application/octet-stream";
  std::string out;
  for (auto _ : state) {
    micro::codec::Message head;
    head.id = "1";
    head.method = head.endpoint = "Echo.Call";
    micro::codec::WriteBody body = &req;
    if (raw) body = &frame;
    if (!(*codec)->Write(head, body, out)) state.SkipWithError("write failed");
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(CodecWrite)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {64, 64 * 1024}})->Name("BM_CodecWrite");

void CodecRead(benchmark::State& state) {
  const auto& ct = ContentTypes()[static_cast<std::size_t>(state.range(0))];
  auto codec = micro::codec::Lookup(ct);
  state.SetLabel(ct);
  echo::Request req;
  req.set_payload(std::string(static_cast<std::size_t>(state.range(1)), 'x'));
  micro::codec::Frame frame{req.SerializeAsString()};
  const bool raw = ct == "application/octet-stream";
  micro::codec::Message head;
  head.type = micro::codec::MessageType::kResponse;
  head.id = "1";
  std::string wire;
  micro::codec::WriteBody body = &req;
  if (raw) body = &frame;
  (void)(*codec)->Write(head, body, wire);
  echo::Request out;
  micro::codec::Frame out_frame;
  for (auto _ : state) {
    micro::codec::Message h;
    h.type = micro::codec::MessageType::kResponse;
    std::string_view payload;
    micro::Status s = (*codec)->ReadHeader(wire, h, payload);
    micro::codec::ReadBody target = &out;
    if (raw) target = &out_frame;
    if (s) s = (*codec)->Read(payload, target);
    if (!s) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(CodecRead)->ArgsProduct({{0, 1, 2, 3, 4, 5}, {64, 64 * 1024}})->Name("BM_CodecRead");

void BM_MetadataBuild(benchmark::State& state) {
  for (auto _ : state) {
    micro::Metadata h = RequestHeader();
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_MetadataBuild);

void BM_MetadataGet(benchmark::State& state) {
  const micro::Metadata h = RequestHeader();
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.Get("micro-endpoint"));
    benchmark::DoNotOptimize(micro::GetHeader(h, "Micro-Stream"));  // absent: X- fallback too
  }
}
BENCHMARK(BM_MetadataGet);

void BM_MetadataCopy(benchmark::State& state) {
  const micro::Metadata h = RequestHeader();
  for (auto _ : state) {
    micro::Metadata copy = h;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_MetadataCopy);

std::shared_ptr<micro::Selector> SelectorWithNodes(int nodes) {
  auto reg = *micro::NewMemoryRegistry();
  micro::registry::Service svc{.name = "echo", .version = "1"};
  for (int i = 0; i < nodes; ++i) {
    svc.nodes.push_back({.id = "echo-" + std::to_string(i),
                         .address = "127.0.0.1:" + std::to_string(9000 + i),
                         .metadata = {{"protocol", "mucp"}}});
  }
  (void)reg->Register(svc);
  return *micro::NewSelector({.registry = reg});
}

// One selector per node count, shared by every thread of a multi-threaded run and warmed up
// (its cache holds the service) before timing starts.
std::shared_ptr<micro::Selector> SharedSelector(int nodes) {
  static std::mutex mu;
  static std::map<int, std::shared_ptr<micro::Selector>> selectors;
  std::lock_guard lock(mu);
  auto& sel = selectors[nodes];
  if (!sel) {
    sel = SelectorWithNodes(nodes);
    (void)sel->Select("echo");
  }
  return sel;
}

// A Next handed out once, called over and over (the retry loop of one call).
void BM_SelectorNext(benchmark::State& state) {
  auto sel = SharedSelector(static_cast<int>(state.range(0)));
  auto next = sel->Select("echo");
  if (!next) return state.SkipWithError("select failed");
  for (auto _ : state) benchmark::DoNotOptimize((*next)());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorNext)->Arg(1)->Arg(10)->Arg(1000)->UseRealTime();
BENCHMARK(BM_SelectorNext)->Arg(1)->Arg(10)->Arg(1000)->Threads(64)->UseRealTime();

// What every client call does: Select on a warm cache, then one Next.
void BM_SelectorSelectAndNext(benchmark::State& state) {
  auto sel = SharedSelector(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto next = sel->Select("echo");
    benchmark::DoNotOptimize((*next)());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorSelectAndNext)->Arg(1)->Arg(10)->Arg(1000)->UseRealTime();
BENCHMARK(BM_SelectorSelectAndNext)->Arg(1)->Arg(10)->Arg(1000)->Threads(64)->UseRealTime();

// Select with a filter (FilterVersion) on a warm cache, then one Next.
void BM_SelectorSelectFiltered(benchmark::State& state) {
  auto sel = SharedSelector(static_cast<int>(state.range(0)));
  const micro::SelectOptions opts{.filters = {micro::selector::FilterVersion("1")}};
  for (auto _ : state) {
    auto next = sel->Select("echo", opts);
    benchmark::DoNotOptimize((*next)());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SelectorSelectFiltered)->Arg(1)->Arg(10)->Arg(1000)->UseRealTime();
BENCHMARK(BM_SelectorSelectFiltered)->Arg(1)->Arg(10)->Arg(1000)->Threads(64)->UseRealTime();

class SyncEcho final : public echo::EchoHandler {
 public:
  micro::Status Call(micro::Context&, const echo::Request& req, echo::Response& rsp) override {
    rsp.set_payload(req.payload());
    return {};
  }
};

class AsyncEcho final : public echo::EchoAsyncHandler {
 public:
  asio::awaitable<micro::Status> Call(micro::Context&, const echo::Request& req,
                                      echo::Response& rsp) override {
    rsp.set_payload(req.payload());
    co_return micro::Status{};
  }
};

// A whole call (client, transport, router, handler, codec) over the memory transport.
void InProcessCall(benchmark::State& state, bool async, const char* content_type) {
  auto transport = *micro::NewMemoryTransport({.executor = micro::Runtime::Default().executor()});
  auto server =
      *micro::NewServer({.name = "echo", .address = "127.0.0.1:0", .transport = transport});
  micro::Status s = async ? echo::RegisterEchoHandler(*server, std::make_shared<AsyncEcho>())
                          : echo::RegisterEchoHandler(*server, std::make_shared<SyncEcho>());
  if (s) s = server->Start();
  if (!s) return state.SkipWithError("server start failed");
  auto client = *micro::NewClient({.transport = transport});
  micro::CallOptions opts;
  opts.address = {server->Address()};
  opts.content_type = content_type;
  echo::Request req;
  req.set_payload(std::string(static_cast<std::size_t>(state.range(0)), 'x'));
  micro::ClientRequest call{"echo", "Echo.Call", content_type, &req};
  micro::Context ctx;
  echo::Response rsp;
  for (auto _ : state) {
    if (!client->Call(ctx, call, &rsp, opts)) state.SkipWithError("call failed");
  }
  (void)server->Stop();
}

void BM_InProcessCallSync(benchmark::State& state) {
  InProcessCall(state, false, "application/protobuf");
}
BENCHMARK(BM_InProcessCallSync)->Arg(64)->Arg(64 * 1024)->UseRealTime();

void BM_InProcessCallAsync(benchmark::State& state) {
  InProcessCall(state, true, "application/protobuf");
}
BENCHMARK(BM_InProcessCallAsync)->Arg(64)->UseRealTime();

void BM_InProcessCallJson(benchmark::State& state) {
  InProcessCall(state, true, "application/json");
}
BENCHMARK(BM_InProcessCallJson)->Arg(64)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  micro::log::SetLevel(micro::log::Level::kWarn);  // no "Listening on" per benchmark run
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
