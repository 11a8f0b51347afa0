// Rate limits (token buckets) and circuit breakers as handler / call wrappers.
#include "micro/resilience.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <random>

#include "micro/error_ids.h"

namespace micro::resilience {

namespace {

constexpr char kBreakerOpenPrefix[] = "circuit breaker open: ";
constexpr char kServerBusyPrefix[] = "server busy: ";

// Buckets by key (endpoint or service), made on first use.
class BucketTable {
 public:
  BucketTable(double rate, double burst) : rate_(rate), burst_(burst) {}
  TokenBucket& Get(std::string_view key) {
    std::lock_guard lock(mu_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      it = buckets_.emplace(std::string(key), std::make_unique<TokenBucket>(rate_, burst_)).first;
    }
    return *it->second;
  }

 private:
  const double rate_, burst_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<TokenBucket>, std::less<>> buckets_;
};

// How long a call may wait for a token: max_wait, cut by the call's deadline.
Duration WaitBudget(const Context& ctx, Duration max_wait) {
  Duration budget = max_wait;
  if (auto left = ctx.remaining(); left && *left < budget) budget = *left;
  return std::max(budget, Duration::zero());
}

asio::awaitable<void> RateLimitSleep(Duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::use_awaitable);
}

double Jittered(double interval_ns, double jitter) {
  if (jitter <= 0) return interval_ns;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> spread(-jitter, jitter);
  return interval_ns * (1.0 + spread(rng));
}

}  // namespace

// --- token bucket ------------------------------------------------------------------------

TokenBucket::TokenBucket(double rate, double burst)
    : rate_(rate),
      burst_(burst >= 1 ? burst : std::max(1.0, rate)),
      tokens_(burst_),
      last_(Clock::now()) {}

void TokenBucket::Refill(TimePoint now) {
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }
}

bool TokenBucket::TryTake() {
  std::lock_guard lock(mu_);
  Refill(Clock::now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

std::optional<Duration> TokenBucket::Reserve(Duration max_wait) {
  std::lock_guard lock(mu_);
  Refill(Clock::now());
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return Duration::zero();
  }
  // Tokens may go below zero: each waiter owns the token that arrives after the earlier ones.
  const auto wait =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>((1 - tokens_) / rate_));
  if (wait > max_wait) return std::nullopt;
  tokens_ -= 1;
  return wait;
}

Error TooManyRequests(std::string_view id) {
  return Error{.id = std::string(id),
               .code = 429,
               .detail = "too many requests",
               .status = "Too Many Requests"};
}

HandlerWrapper RateLimitHandler(ServerRateLimitOptions options) {
  if (options.rate <= 0) return [](HandlerFunc next) { return next; };
  auto table = std::make_shared<BucketTable>(options.rate, options.burst);
  return [table, options](HandlerFunc next) -> HandlerFunc {
    return [table, options, next = std::move(next)](
               Context& ctx, const ServerRequest& req,
               google::protobuf::Message& rsp) -> asio::awaitable<Status> {
      TokenBucket& bucket = table->Get(options.per_endpoint ? req.endpoint : std::string_view());
      const Duration budget = WaitBudget(ctx, options.max_wait);
      const std::optional<Duration> wait = bucket.Reserve(budget);
      if (!wait) co_return TooManyRequests(error_ids::kServer);
      if (*wait > Duration::zero()) co_await RateLimitSleep(*wait);
      co_return co_await next(ctx, req, rsp);
    };
  };
}

CallWrapper RateLimitCall(ClientRateLimitOptions options) {
  if (options.rate <= 0) return [](CallFunc next) { return next; };
  auto table = std::make_shared<BucketTable>(options.rate, options.burst);
  return [table, options](CallFunc next) -> CallFunc {
    return [table, options, next = std::move(next)](
               Context& ctx, const registry::Node& node, const ClientRequest& req,
               codec::ReadBody rsp) -> asio::awaitable<Status> {
      TokenBucket& bucket = table->Get(options.per_service ? req.service : std::string_view());
      const Duration budget = WaitBudget(ctx, options.max_wait);
      const std::optional<Duration> wait = bucket.Reserve(budget);
      if (!wait) co_return TooManyRequests(error_ids::kClient);
      if (*wait > Duration::zero()) co_await RateLimitSleep(*wait);
      co_return co_await next(ctx, node, req, rsp);
    };
  };
}

// --- load shedding ------------------------------------------------------------------------

Error ServerBusy(std::size_t limit) {
  return Error{.id = error_ids::kServer,
               .code = 503,
               .detail = fmt::format("{}{} calls in flight", kServerBusyPrefix, limit),
               .status = "Service Unavailable"};
}

bool IsShed(const Error& error) {
  return error.code == 503 && error.id == error_ids::kServer &&
         error.detail.rfind(kServerBusyPrefix, 0) == 0;
}

// --- circuit breaker ---------------------------------------------------------------------

CircuitBreakers::CircuitBreakers(BreakerOptions options) : options_(std::move(options)) {}

bool CircuitBreakers::IsFailure(const Status& status) const {
  if (status.ok()) return false;
  const Error& e = status.error();
  if (IsBreakerOpen(e) || e.code == 429) return false;
  if (options_.is_failure) return options_.is_failure(e);
  return e.code == 408 || e.code >= 500;
}

void CircuitBreakers::Trip(Node& n, TimePoint now) {
  n.state = BreakerState::kOpen;
  n.probing = false;
  const double ns =
      Jittered(static_cast<double>(std::chrono::nanoseconds(options_.open_interval).count()),
               options_.jitter);
  n.open_until = now + std::chrono::duration_cast<Duration>(
                           std::chrono::nanoseconds(static_cast<int64_t>(std::max(0.0, ns))));
  n.consecutive = n.requests = n.failures = 0;
}

bool CircuitBreakers::Allow(const std::string& node) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return true;  // never failed: closed
  Node& n = it->second;
  if (n.state == BreakerState::kClosed) return true;
  const TimePoint now = Clock::now();
  if (n.state == BreakerState::kOpen) {
    if (now < n.open_until) return false;
    n.state = BreakerState::kHalfOpen;
    n.probing = false;
  }
  // Half-open: one probe at a time (a probe that never reports frees its slot after an
  // interval).
  if (n.probing && now - n.probe_started < options_.open_interval) return false;
  n.probing = true;
  n.probe_started = now;
  return true;
}

void CircuitBreakers::Record(const std::string& node, const Status& status) {
  const bool failed = IsFailure(status);
  if (!status.ok() && IsBreakerOpen(status.error())) return;
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) {
    // Healthy nodes cost no entry unless successes are counted (the failure ratio).
    if (!failed && options_.failure_ratio <= 0) return;
    it = nodes_.emplace(node, Node{}).first;
  }
  Node& n = it->second;
  const TimePoint now = Clock::now();
  if (n.state == BreakerState::kHalfOpen) {
    if (failed) {
      Trip(n, now);
    } else {
      n = Node{};  // closed, counts reset
    }
    return;
  }
  if (n.state == BreakerState::kOpen) return;  // a call that started before the trip
  if (now - n.window_start >= options_.window) {
    n.window_start = now;
    n.requests = n.failures = 0;
  }
  n.requests++;
  if (failed) {
    n.failures++;
    n.consecutive++;
  } else {
    n.consecutive = 0;
  }
  const bool by_count =
      options_.consecutive_failures > 0 && n.consecutive >= options_.consecutive_failures;
  const bool by_ratio = options_.failure_ratio > 0 && n.requests >= options_.min_requests &&
                        n.failures >= options_.failure_ratio * n.requests;
  if (failed && (by_count || by_ratio)) Trip(n, now);
}

BreakerState CircuitBreakers::State(const std::string& node) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return BreakerState::kClosed;
  if (it->second.state == BreakerState::kOpen && Clock::now() >= it->second.open_until) {
    return BreakerState::kHalfOpen;
  }
  return it->second.state;
}

Error BreakerOpenError(std::string_view node) {
  return Error{.id = error_ids::kClient,
               .code = 503,
               .detail = kBreakerOpenPrefix + std::string(node),
               .status = "Service Unavailable"};
}

bool IsBreakerOpen(const Error& error) {
  return error.code == 503 && error.id == error_ids::kClient &&
         error.detail.rfind(kBreakerOpenPrefix, 0) == 0;
}

CallWrapper BreakerCall(std::shared_ptr<CircuitBreakers> breakers) {
  return [breakers](CallFunc next) -> CallFunc {
    return [breakers, next = std::move(next)](Context& ctx, const registry::Node& node,
                                              const ClientRequest& req,
                                              codec::ReadBody rsp) -> asio::awaitable<Status> {
      const std::string& key = node.id.empty() ? node.address : node.id;
      if (!breakers->Allow(key)) co_return BreakerOpenError(key);
      Status s = co_await next(ctx, node, req, rsp);
      breakers->Record(key, s);
      co_return s;
    };
  };
}

}  // namespace micro::resilience
