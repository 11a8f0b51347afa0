// Resilience wrappers: rate limits (server and client) and a circuit breaker per remote node.
// Each is a factory for the existing wrapper chains (HandlerWrapper / CallWrapper), so they
// compose with every other wrapper; a Service turns them on with flags (docs/resilience.md).
//
//   // server: 100 requests/s per endpoint, bursts of 20; beyond: 429 "too many requests"
//   opts.wrappers.push_back(micro::resilience::RateLimitHandler({.rate = 100, .burst = 20}));
//   // client: at most 50 calls/s, waiting for a token (never past the call's deadline)
//   client_opts.call_wrappers.push_back(micro::resilience::RateLimitCall({.rate = 50}));
//   // client: a breaker per node; open nodes are skipped (the client marks them in the selector)
//   client_opts.call_wrappers.push_back(micro::resilience::BreakerCall(
//       std::make_shared<micro::resilience::CircuitBreakers>()));
//
// Errors (all micro::Error, as go-micro's wrappers):
//   server rate limit: id "go.micro.server", 429, detail "too many requests", "Too Many Requests"
//   client rate limit: id "go.micro.client", 429, same detail (only when it does not wait)
//   open breaker:      id "go.micro.client", 503, detail "circuit breaker open: <node id>"
//                      (IsBreakerOpen tells it apart; the client retries it on another node
//                      without a backoff, and marks the node in the selector).
// Threading: every object here may be used from any thread at once; the wrappers keep their
// state (buckets, breakers) alive through shared pointers, so they may outlive their factory's
// arguments. Wrapper functions are coroutines and never block a thread: a client that waits
// for a token suspends on a timer.
#pragma once

#include <micro/client.h>
#include <micro/handler.h>
#include <micro/status.h>
#include <micro/util.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace micro::resilience {

// --- token bucket ------------------------------------------------------------------------

// A token bucket: `rate` tokens per second, holding at most `burst` (full at the start).
// Thread-safe.
class TokenBucket {
 public:
  // rate > 0; burst < 1 means max(1, rate).
  TokenBucket(double rate, double burst);
  // Takes a token if one is there.
  bool TryTake();
  // Takes a token if one is there or will be within max_wait; returns how long the caller must
  // wait before using it (zero: at once), or std::nullopt (nothing taken) when the wait would
  // be longer than max_wait.
  std::optional<Duration> Reserve(Duration max_wait);

 private:
  void Refill(TimePoint now);  // under mu_
  const double rate_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  TimePoint last_;
};

// The 429 the rate limits answer with (id: error_ids::kServer or kClient).
Error TooManyRequests(std::string_view id);

struct ServerRateLimitOptions {
  double rate = 0;            // requests per second; <= 0: no limit (the wrapper passes through)
  double burst = 0;           // bucket size; < 1: max(1, rate)
  bool per_endpoint = false;  // one bucket per endpoint ("Greeter.Hello"), else one per server
  Duration max_wait{0};       // wait up to this for a token (never past the call's deadline)
};
// A HandlerWrapper answering 429 (id "go.micro.server") when the bucket is empty. Sees unary
// calls only (stream handlers do not go through handler wrappers).
HandlerWrapper RateLimitHandler(ServerRateLimitOptions options);

struct ClientRateLimitOptions {
  double rate = 0;           // calls (attempts) per second; <= 0: no limit
  double burst = 0;          // bucket size; < 1: max(1, rate)
  bool per_service = false;  // one bucket per called service, else one per client
  // Wait for a token up to this long, and never past the call's deadline; a wait that would be
  // longer fails at once with 429 (id "go.micro.client"). Zero: never wait.
  Duration max_wait = std::chrono::seconds(1);
};
// A CallWrapper limiting attempts (each retry takes a token too).
CallWrapper RateLimitCall(ClientRateLimitOptions options);

// --- load shedding ------------------------------------------------------------------------

// What a server answers at once, without running the handler, when it already runs
// ServerOptions::max_in_flight unary calls: id "go.micro.server", 503, detail
// "server busy: <limit> calls in flight". The default retry retries it (on another node).
Error ServerBusy(std::size_t limit);
bool IsShed(const Error& error);

// --- circuit breaker ---------------------------------------------------------------------

enum class BreakerState { kClosed, kOpen, kHalfOpen };

struct BreakerOptions {
  // Trips after this many failures in a row (0: never by count).
  int consecutive_failures = 5;
  // Or when, within one `window`, at least `min_requests` calls were made and this share of
  // them failed (0: never by ratio).
  double failure_ratio = 0.5;
  int min_requests = 20;
  Duration window = std::chrono::seconds(10);
  // How long a tripped breaker stays open before letting one probe through, spread by +-jitter
  // (a share of the interval) so that clients do not probe a recovering node in step.
  Duration open_interval = std::chrono::seconds(5);
  double jitter = 0.2;
  // Which outcomes count as failures. Empty: timeouts (408), 5xx, and transport errors (the
  // breaker's own rejections and 429s never count).
  std::function<bool(const Error&)> is_failure{};
};

// One breaker per remote node (keyed by node id; an explicit address is its own id).
// Closed: calls go through and outcomes are counted. Open: calls are refused at once until
// the interval is over. Half-open: exactly one probe goes through; its success closes the
// breaker, its failure opens it again. Thread-safe.
class CircuitBreakers {
 public:
  explicit CircuitBreakers(BreakerOptions options = {});
  // May a call go to this node now? (Claims the half-open probe when it returns true then.)
  bool Allow(const std::string& node);
  // The outcome of a call that Allow let through.
  void Record(const std::string& node, const Status& status);
  BreakerState State(const std::string& node);
  const BreakerOptions& Options() const { return options_; }

 private:
  struct Node {
    BreakerState state = BreakerState::kClosed;
    int consecutive = 0;
    int requests = 0;
    int failures = 0;
    TimePoint window_start{};
    TimePoint open_until{};
    TimePoint probe_started{};
    bool probing = false;
  };
  bool IsFailure(const Status& status) const;
  void Trip(Node& n, TimePoint now);  // under mu_

  const BreakerOptions options_;
  std::mutex mu_;
  std::map<std::string, Node, std::less<>> nodes_;
};

// The error an open breaker answers with (nothing was sent).
Error BreakerOpenError(std::string_view node);
bool IsBreakerOpen(const Error& error);

// A CallWrapper consulting `breakers` before each attempt on a node and recording its outcome.
// Put it innermost (after tracing / metrics wrappers) so they see its rejections.
CallWrapper BreakerCall(std::shared_ptr<CircuitBreakers> breakers);

}  // namespace micro::resilience
