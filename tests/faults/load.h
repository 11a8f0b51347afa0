// Open-loop load for the fault tests: calls Greeter.Hello on a service at a fixed rate from a
// pacing thread (a call is started on schedule whatever the earlier ones do, as a real client
// population would), and records, per node address, every attempt the client made (through a
// call wrapper): when it started, whether it was a dial that sent nothing, and how it ended.
//
//   faults::OpenLoad load(client, "faults.echo", {.rate = 1000, .seconds = 6});
//   load.Start();  ... kill something ...  load.Wait();
//   EXPECT_EQ(load.failed(), 0) << load.Summary();
//
// Threading: Start/Wait/Summary from the test thread; the counters are safe to read any time.
#pragma once

#include <micro/client.h>

#include <asio/co_spawn.hpp>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "greeter.pb.h"

namespace faults {

using Clock = std::chrono::steady_clock;

struct LoadOptions {
  double rate = 1000;  // calls per second
  double seconds = 6;
  micro::CallOptions call;  // per call (retries, timeouts)
};

// One attempt on one node, as the call wrapper saw it.
struct Attempt {
  Clock::time_point start;
  Clock::time_point end;
  bool dial_failed = false;  // "connection error": nothing was sent
  bool ok = false;
};

class OpenLoad {
 public:
  OpenLoad(std::shared_ptr<micro::Client> client, std::string service, LoadOptions options)
      : client_(std::move(client)), service_(std::move(service)), options_(std::move(options)) {
    options_.call.call_wrappers.push_back([this](micro::CallFunc next) -> micro::CallFunc {
      return [this, next](micro::Context& ctx, const micro::registry::Node& node,
                          const micro::ClientRequest& req, micro::codec::ReadBody rsp) {
        return Observe(next, ctx, node, req, rsp);
      };
    });
  }
  ~OpenLoad() { Wait(); }

  void Start() {
    started_ = Clock::now();
    pacer_ = std::thread([this] { Pace(); });
  }

  // Waits for the pacing to end and every call to finish.
  void Wait() {
    if (pacer_.joinable()) pacer_.join();
    while (done_.load() < sent_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  Clock::time_point started() const { return started_; }
  int64_t sent() const { return sent_.load(); }
  int64_t failed() const { return failed_.load(); }
  int64_t ok() const { return done_.load() - failed_.load(); }

  // Calls currently in flight on `address` (attempts between the wrapper's start and end).
  int InFlightOn(const std::string& address) {
    std::lock_guard l(mu_);
    return in_flight_[address];
  }

  // Attempts on `address` that started after `t`: all of them, and those that sent a request
  // (not a refused dial).
  std::pair<int, int> AttemptsAfter(const std::string& address, Clock::time_point t) {
    std::lock_guard l(mu_);
    int all = 0, sent = 0;
    for (const Attempt& a : attempts_[address]) {
      if (a.start <= t) continue;
      ++all;
      if (!a.dial_failed) ++sent;
    }
    return {all, sent};
  }

  // Attempts on `address` that were running at some moment of [from, to] and sent a request:
  // the calls in flight on a node while it was being killed.
  int SentDuring(const std::string& address, Clock::time_point from, Clock::time_point to) {
    std::lock_guard l(mu_);
    int n = 0;
    for (const Attempt& a : attempts_[address]) {
      if (!a.dial_failed && a.start <= to && a.end >= from) ++n;
    }
    return n;
  }

  // Attempts that succeeded on each address.
  std::map<std::string, int> OkByAddress() {
    std::lock_guard l(mu_);
    std::map<std::string, int> out;
    for (const auto& [addr, list] : attempts_) {
      int n = 0;
      for (const Attempt& a : list) n += a.ok ? 1 : 0;
      out[addr] = n;
    }
    return out;
  }

  std::string Summary() {
    std::string s = "sent " + std::to_string(sent()) + ", ok " + std::to_string(ok()) +
                    ", failed " + std::to_string(failed());
    std::lock_guard l(mu_);
    for (const auto& [text, n] : errors_) s += "\n  " + std::to_string(n) + "x " + text;
    for (const auto& [addr, list] : attempts_) {
      s += "\n  " + addr + ": " + std::to_string(list.size()) + " attempts";
    }
    return s;
  }

 private:
  struct Call {
    micro::Context ctx;
    greeter::Request req;
    greeter::Response rsp;
    micro::ClientRequest creq;
  };

  // A coroutine with its own copies (not a capturing lambda: its captures would live in the
  // wrapper's closure, not in the coroutine frame).
  asio::awaitable<micro::Status> Observe(micro::CallFunc next, micro::Context& ctx,
                                         micro::registry::Node node,
                                         const micro::ClientRequest& req,
                                         micro::codec::ReadBody rsp) {
    const auto start = Clock::now();
    InFlight(node.address, +1);
    micro::Status s = co_await next(ctx, node, req, rsp);
    InFlight(node.address, -1);
    Attempt a{.start = start, .end = Clock::now(), .dial_failed = false, .ok = s.ok()};
    if (!s) a.dial_failed = s.error().detail.rfind("connection error:", 0) == 0;
    std::lock_guard l(mu_);
    attempts_[node.address].push_back(a);
    co_return s;
  }

  void InFlight(const std::string& address, int delta) {
    std::lock_guard l(mu_);
    in_flight_[address] += delta;
  }

  void Pace() {
    const auto total = static_cast<int64_t>(options_.rate * options_.seconds);
    const auto period = std::chrono::duration<double>(1.0 / options_.rate);
    for (int64_t i = 0; i < total; ++i) {
      std::this_thread::sleep_until(started_ +
                                    std::chrono::duration_cast<Clock::duration>(period * i));
      auto call = std::make_shared<Call>();
      call->req.set_name("load");
      call->creq = {service_, "Greeter.Hello", "application/protobuf", &call->req};
      ++sent_;
      asio::co_spawn(client_->executor(),
                     client_->AsyncCall(call->ctx, call->creq, &call->rsp, options_.call),
                     [this, call](std::exception_ptr e, micro::Status st) {
                       if (e || !st) {
                         ++failed_;
                         std::lock_guard l(mu_);
                         ++errors_[e ? std::string("exception") : st.error().ToJson()];
                       }
                       ++done_;
                     });
    }
  }

  std::shared_ptr<micro::Client> client_;
  std::string service_;
  LoadOptions options_;
  Clock::time_point started_;
  std::thread pacer_;
  std::atomic<int64_t> sent_{0}, done_{0}, failed_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<Attempt>> attempts_;
  std::map<std::string, int> in_flight_;
  std::map<std::string, int> errors_;
};

}  // namespace faults
