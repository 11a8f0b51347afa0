// The load-generator driver every benchmark client shares (micro-bench, grpc-echo-bench,
// raw-echo-bench), so that their command lines and output are the same and the runner can
// compare them.
//
//   closed loop:  C calls in flight (-c), for D seconds (-d) or N calls in all (-n)
//   open loop:    --rate R calls per second on a fixed schedule, at most C in flight
//                 (latency counted from the scheduled start: no coordinated omission)
//   startup:      --startup -- <server command...>: launches the server, calls it until the
//                 first call succeeds, prints the time from launch to that answer, stops it
//
// Output (stdout): a short human summary, then one line of JSON (the last line) with qps,
// p50/p90/p99/p99.9/max in microseconds and the error count. On a terminal, stderr shows
// progress once a second.
//
// Threading: Target::Call may be invoked from the driver's thread and from any thread on
// which the target reports a completion; Sink::Done may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct LoadOptions {
  std::string name = "bench";        // label in the output
  std::string address;               // host:port of the server
  int concurrency = 1;               // -c: calls in flight (open loop: the most in flight)
  double seconds = 5;                // -d: duration of the measured part
  double warmup = 0;                 // --warmup: seconds run before measuring
  uint64_t calls = 0;                // -n: stop after this many calls (0: run for -d)
  double rate = 0;                   // --rate: calls per second, open loop (0: closed loop)
  std::size_t payload = 64;          // -s: payload bytes
  int threads = 1;                   // --threads: client I/O threads
  bool startup = false;              // --startup: measure launch-to-first-answer of the command
  std::vector<std::string> command;  // after "--": the server to launch with --startup
  std::vector<std::string> rest;     // arguments the driver did not recognise
};

// Parses the common flags (both "--flag value" and "--flag=value"); the rest are left in
// options.rest for the tool. Returns an error text, or "" when fine. --help prints `usage`
// plus the common flags and exits 0.
std::string ParseLoadOptions(int argc, char** argv, const std::string& usage, LoadOptions& opts);

// Where a target reports a finished call.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Done(int slot, bool ok) = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  // Starts one call on `slot` (0 .. concurrency-1; at most one call per slot in flight) and
  // reports it to sink->Done(slot, ok) exactly once, asynchronously.
  virtual void Call(int slot) = 0;
  // One blocking call with a short timeout on a fresh or pooled connection (for --startup);
  // true when it was answered.
  virtual bool Probe() = 0;
  void set_sink(Sink* sink) { sink_ = sink; }

 protected:
  Sink* sink_ = nullptr;
};

// Runs the load (or the startup measurement) against target and prints the results.
// Returns the process exit code: 0, or 1 when no call succeeded.
int RunLoad(const LoadOptions& opts, Target& target);

// "5", "5s", "500ms", "1.5s" -> seconds; negative on bad text.
double ParseSeconds(const std::string& text);

}  // namespace bench
