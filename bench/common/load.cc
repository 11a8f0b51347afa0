#include "common/load.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// A log-linear latency histogram (64 sub-buckets per power of two: under 1.6% error), lock-free.
class Histogram {
 public:
  void Record(uint64_t ns) {
    buckets_[Index(ns)].fetch_add(1, std::memory_order_relaxed);
    uint64_t prev = max_.load(std::memory_order_relaxed);
    while (ns > prev && !max_.compare_exchange_weak(prev, ns, std::memory_order_relaxed)) {
    }
  }
  uint64_t Count() const {
    uint64_t n = 0;
    for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
    return n;
  }
  // The value at quantile q (0..1), in ns.
  double Quantile(double q) const {
    const uint64_t total = Count();
    if (total == 0) return 0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
    uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return Value(i);
    }
    return static_cast<double>(max_.load());
  }
  uint64_t Max() const { return max_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kSubBits = 6;
  static std::size_t Index(uint64_t v) {
    if (v < (2u << kSubBits)) return v;
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    return static_cast<std::size_t>(shift) * (1u << kSubBits) + (v >> shift);
  }
  static double Value(std::size_t i) {
    if (i < (2u << kSubBits)) return static_cast<double>(i);
    const std::size_t shift = i / (1u << kSubBits) - 1;
    const std::size_t m = i % (1u << kSubBits) + (1u << kSubBits);
    return static_cast<double>(m << shift) + static_cast<double>(1ull << shift) / 2;
  }
  std::array<std::atomic<uint64_t>, (64 - kSubBits) * (1u << kSubBits) + (2u << kSubBits)>
      buckets_{};
  std::atomic<uint64_t> max_{0};
};

class Driver final : public Sink {
 public:
  Driver(const LoadOptions& opts, Target& target)
      : opts_(opts), target_(target), starts_(static_cast<std::size_t>(opts.concurrency)) {
    target_.set_sink(this);
  }

  int Run() {
    const bool tty = isatty(fileno(stderr)) != 0;
    const int64_t t0 = NowNs();
    measure_from_ = t0 + static_cast<int64_t>(opts_.warmup * 1e9);
    const int64_t end = measure_from_ + static_cast<int64_t>(opts_.seconds * 1e9);
    std::thread pacer;
    if (opts_.rate > 0) {
      for (int i = opts_.concurrency - 1; i >= 0; --i) free_.push_back(i);
      pacer = std::thread([this, end] { Pace(end); });
    } else {
      for (int i = 0; i < opts_.concurrency; ++i) Issue(i, NowNs());
    }
    // Wait for the end (time or count), with progress once a second on a terminal.
    int64_t next_report = t0 + 1'000'000'000;
    uint64_t last_ok = 0;
    while (!stop_.load()) {
      const int64_t now = NowNs();
      if (opts_.calls == 0 && now >= end) break;
      if (opts_.calls != 0 && now - t0 > int64_t{3600} * 1'000'000'000) break;
      if (tty && now >= next_report) {
        const uint64_t ok = ok_.load();
        std::fprintf(stderr, "\r%5.0fs  %10llu calls  %10.0f calls/s  %llu errors   ",
                     static_cast<double>(now - t0) / 1e9, static_cast<unsigned long long>(ok),
                     static_cast<double>(ok - last_ok),
                     static_cast<unsigned long long>(errors_.load()));
        std::fflush(stderr);
        last_ok = ok;
        next_report += 1'000'000'000;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(opts_.calls ? 1 : 5));
    }
    stop_ = true;
    measure_to_ = NowNs();
    if (pacer.joinable()) pacer.join();
    if (tty) std::fputs("\r\033[K", stderr);
    // Let calls in flight finish (they are not counted in QPS after the end).
    const int64_t grace = NowNs() + 5'000'000'000;
    while (active_.load() > 0 && NowNs() < grace) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (opts_.calls != 0) measure_to_ = NowNs();
    Report(static_cast<double>(measure_to_ - std::max(measure_from_, t0)) / 1e9);
    return ok_.load() > 0 ? 0 : 1;
  }

  void Done(int slot, bool ok) override {
    const int64_t now = NowNs();
    const int64_t start = starts_[static_cast<std::size_t>(slot)];
    // Time-bound runs count calls that end before the deadline; -n runs count every call.
    if (start >= measure_from_ && (opts_.calls != 0 || !stop_.load(std::memory_order_relaxed))) {
      hist_.Record(static_cast<uint64_t>(now - start));
      (ok ? ok_ : errors_).fetch_add(1, std::memory_order_relaxed);
    }
    if (opts_.rate > 0) {
      std::lock_guard lock(free_mu_);
      free_.push_back(slot);
      active_.fetch_sub(1);
      return;
    }
    if (!stop_.load(std::memory_order_relaxed) && Admit()) {
      starts_[static_cast<std::size_t>(slot)] = now;
      target_.Call(slot);
      return;
    }
    active_.fetch_sub(1);
  }

 private:
  // -n: whether one more call may start.
  bool Admit() {
    if (opts_.calls == 0) return true;
    if (issued_.fetch_add(1) < opts_.calls) return true;
    stop_ = true;
    return false;
  }

  void Issue(int slot, int64_t start) {
    if (!Admit()) return;
    active_.fetch_add(1);
    starts_[static_cast<std::size_t>(slot)] = start;
    target_.Call(slot);
  }

  // Open loop: one call every 1/rate s. A call due while every connection is busy waits for
  // the first free one (counted as late) and its latency runs from its due time, as wrk2
  // measures: a stall shows in the latency instead of silently lowering the rate.
  void Pace(int64_t end) {
    const double interval = 1e9 / opts_.rate;
    const int64_t t0 = NowNs();
    for (uint64_t i = 0; !stop_.load(); ++i) {
      const int64_t due = t0 + static_cast<int64_t>(static_cast<double>(i) * interval);
      if (opts_.calls == 0 && due >= end) break;
      int64_t now = NowNs();
      if (due > now + 50'000) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(due - now - 20'000));
      }
      while (NowNs() < due) {
      }
      int slot = TakeFreeSlot();
      if (slot < 0) {
        if (due >= measure_from_) late_.fetch_add(1);
        while (slot < 0 && !stop_.load()) {
          std::this_thread::sleep_for(std::chrono::microseconds(20));
          slot = TakeFreeSlot();
        }
        if (slot < 0) break;
      }
      if (!Admit()) {
        std::lock_guard lock(free_mu_);
        free_.push_back(slot);
        break;
      }
      active_.fetch_add(1);
      starts_[static_cast<std::size_t>(slot)] = due;
      target_.Call(slot);
    }
  }

  int TakeFreeSlot() {
    std::lock_guard lock(free_mu_);
    if (free_.empty()) return -1;
    const int slot = free_.back();
    free_.pop_back();
    return slot;
  }

  void Report(double seconds) {
    const double us = 1e-3;
    const uint64_t ok = ok_.load(), errors = errors_.load();
    const double qps = seconds > 0 ? static_cast<double>(ok) / seconds : 0;
    const double p50 = hist_.Quantile(0.50) * us, p90 = hist_.Quantile(0.90) * us,
                 p99 = hist_.Quantile(0.99) * us, p999 = hist_.Quantile(0.999) * us,
                 max = static_cast<double>(hist_.Max()) * us;
    std::printf("%s -> %s: %zu B payload, %s %d, %.2f s\n", opts_.name.c_str(),
                opts_.address.c_str(), opts_.payload,
                opts_.rate > 0 ? "open loop, at most in flight" : "in flight", opts_.concurrency,
                seconds);
    if (opts_.rate > 0) std::printf("  rate       %.0f calls/s scheduled\n", opts_.rate);
    const uint64_t late = late_.load();
    std::printf("  calls      %llu ok, %llu errors, %llu late (waited for a free connection)\n",
                static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(late));
    std::printf("  qps        %.0f\n", qps);
    std::printf("  latency    p50 %.1f us  p90 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
                p50, p90, p99, p999, max);
    std::printf(
        "{\"name\":\"%s\",\"payload\":%zu,\"concurrency\":%d,\"rate\":%.0f,\"seconds\":%.3f,"
        "\"calls\":%llu,\"errors\":%llu,\"late\":%llu,\"qps\":%.1f,\"p50_us\":%.2f,"
        "\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f}\n",
        opts_.name.c_str(), opts_.payload, opts_.concurrency, opts_.rate, seconds,
        static_cast<unsigned long long>(ok), static_cast<unsigned long long>(errors),
        static_cast<unsigned long long>(late), qps, p50, p90, p99, p999, max);
    std::fflush(stdout);
  }

  const LoadOptions& opts_;
  Target& target_;
  std::vector<int64_t> starts_;
  Histogram hist_;
  std::atomic<bool> stop_{false};
  std::atomic<int> active_{0};
  std::atomic<uint64_t> ok_{0}, errors_{0}, late_{0}, issued_{0};
  int64_t measure_from_ = 0;
  int64_t measure_to_ = 0;
  std::mutex free_mu_;
  std::vector<int> free_;
};

// --startup: launch the command, call until answered, print the time, stop the server.
int RunStartup(const LoadOptions& opts, Target& target) {
  if (opts.command.empty()) {
    std::fprintf(stderr, "--startup needs the server command after --\n");
    return 2;
  }
  std::vector<char*> argv;
  for (const auto& a : opts.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int64_t t0 = NowNs();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[0], argv.data());
    std::perror("execvp");
    _exit(127);
  }
  bool ok = false;
  int probes = 0;
  while (NowNs() - t0 < 10'000'000'000) {
    ++probes;
    if (target.Probe()) {
      ok = true;
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // the server died
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  const double ms = static_cast<double>(NowNs() - t0) / 1e6;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::printf("%s: first call answered %.2f ms after launch (%d probes)\n", opts.name.c_str(), ms,
              probes);
  std::printf("{\"name\":\"%s\",\"startup_ms\":%.3f,\"ok\":%s}\n", opts.name.c_str(),
              ok ? ms : -1.0, ok ? "true" : "false");
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace

double ParseSeconds(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return -1;
  const std::string unit(end);
  if (unit.empty() || unit == "s") return v;
  if (unit == "ms") return v / 1e3;
  if (unit == "m") return v * 60;
  return -1;
}

std::string ParseLoadOptions(int argc, char** argv, const std::string& usage, LoadOptions& o) {
  bool concurrency_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) o.command.emplace_back(argv[i]);
      break;
    }
    if (a == "-h" || a == "--help") {
      std::printf(
          "%s\nLoad flags (common to micro-bench, grpc-echo-bench, raw-echo-bench):\n"
          "  --address host:port   server address\n"
          "  -c, --concurrency N   calls in flight (open loop: most in flight; default 1,\n"
          "                        256 with --rate)\n"
          "  -d, --duration T      measured time: 5, 5s, 500ms (default 5s)\n"
          "  --warmup T            unmeasured time first (default 0)\n"
          "  -n, --calls N         stop after N calls instead\n"
          "  --rate R              open loop: R calls/s on a fixed schedule\n"
          "  -s, --size B          payload bytes (default 64)\n"
          "  --threads N           client I/O threads (default 1)\n"
          "  --name TEXT           label in the output\n"
          "  --startup -- CMD...   launch CMD, time launch to first answered call, stop it\n",
          usage.c_str());
      std::exit(0);
    }
    std::string name = a, value;
    bool has_value = false;
    if (a.rfind("--", 0) == 0) {
      if (auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
    }
    static const char* kValued[] = {
        "--address", "-c", "--concurrency", "-d",        "--duration", "--warmup", "-n", "--calls",
        "--rate",    "-s", "--size",        "--threads", "--name"};
    bool known = name == "--startup";
    for (const char* k : kValued) known = known || name == k;
    if (!known) {
      o.rest.push_back(a);
      continue;
    }
    if (name == "--startup") {
      o.startup = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return name + " needs a value";
      value = argv[++i];
    }
    char* end = nullptr;
    auto integer = [&](auto& out) {
      const long long v = std::strtoll(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || v < 0) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return true;
    };
    bool good = true;
    if (name == "--address") {
      o.address = value;
    } else if (name == "-c" || name == "--concurrency") {
      good = integer(o.concurrency) && o.concurrency > 0;
      concurrency_given = true;
    } else if (name == "-d" || name == "--duration") {
      o.seconds = ParseSeconds(value);
      good = o.seconds > 0;
    } else if (name == "--warmup") {
      o.warmup = ParseSeconds(value);
      good = o.warmup >= 0;
    } else if (name == "-n" || name == "--calls") {
      good = integer(o.calls);
    } else if (name == "--rate") {
      o.rate = std::strtod(value.c_str(), &end);
      good = end != value.c_str() && o.rate > 0;
    } else if (name == "-s" || name == "--size") {
      good = integer(o.payload);
    } else if (name == "--threads") {
      good = integer(o.threads) && o.threads > 0;
    } else if (name == "--name") {
      o.name = value;
    }
    if (!good) return "bad value for " + name + ": " + value;
  }
  if (o.rate > 0 && !concurrency_given) o.concurrency = 256;
  if (o.startup && o.command.empty()) return "--startup needs the server command after --";
  return "";
}

int RunLoad(const LoadOptions& opts, Target& target) {
  if (opts.startup) return RunStartup(opts, target);
  Driver driver(opts, target);
  return driver.Run();
}

}  // namespace bench
