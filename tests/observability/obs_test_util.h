// Helpers for the observability tests: shell commands (curl, python), Prometheus parsing,
// services on loopback with a shared memory registry.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "greeter.pb.h"
#include "micro/registry.h"
#include "micro/service.h"

namespace micro::obs_test {

inline std::string RunCommand(const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int rc = pclose(p);
  if (exit_code) *exit_code = WEXITSTATUS(rc);
  return out;
}

inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CurlResult {
  int status = 0;
  std::string body;
};

// GET url with Debian's curl.
inline CurlResult CurlGet(const std::string& url) {
  const std::string out =
      RunCommand("curl -s --max-time 10 -w '\\n%{http_code}' " + ShellQuote(url));
  CurlResult r;
  const auto nl = out.rfind('\n');
  if (nl == std::string::npos) return r;
  r.status = std::atoi(out.c_str() + nl + 1);
  r.body = out.substr(0, nl);
  return r;
}

struct Sample {
  std::string family, type, name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses exposition text with python3-prometheus-client; nullopt when it does not parse.
inline std::optional<std::vector<Sample>> ParsePrometheus(const std::string& text) {
  char path[] = "/tmp/obs_metrics_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return std::nullopt;
  FILE* f = fdopen(fd, "w");
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  int rc = 0;
  const std::string out = RunCommand(
      std::string("/usr/bin/python3 ") + MICRO_OBS_TEST_DIR + "/parse_metrics.py < " + path, &rc);
  std::remove(path);
  if (rc != 0) return std::nullopt;
  std::vector<Sample> samples;
  size_t at = 0;
  while (at < out.size()) {
    size_t nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    auto j = nlohmann::json::parse(out.substr(at, nl - at));
    Sample s{j["family"], j["type"], j["name"], {}, j["value"]};
    for (auto& [k, v] : j["labels"].items()) s.labels[k] = v;
    samples.push_back(std::move(s));
    at = nl + 1;
  }
  return samples;
}

// The value of the sample with this name and (at least) these labels; 0 when absent.
inline double Value(const std::vector<Sample>& samples, const std::string& name,
                    const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) return s.value;
  }
  return 0;
}

inline bool Has(const std::vector<Sample>& samples, const std::string& name) {
  for (const auto& s : samples) {
    if (s.name == name) return true;
  }
  return false;
}

// "Greeter.Hello" answering "Hello <name>"; `hook` runs first.
inline Handler Greeter(std::function<Status(Context&, const greeter::Request&)> hook = {}) {
  Handler h{.name = "Greeter"};
  h.endpoints.push_back(UnaryEndpoint<greeter::Request, greeter::Response>(
      "Greeter.Hello", [hook](Context& ctx, const greeter::Request& req, greeter::Response& rsp) {
        if (hook) {
          if (Status s = hook(ctx, req); !s) return s;
        }
        rsp.set_msg("Hello " + req.name());
        return Status{};
      }));
  return h;
}

inline std::function<std::optional<std::string>(const std::string&)> NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// A service on loopback, http transport, the given (shared) memory registry and memory broker.
inline ServiceOptions LoopbackService(std::string name, std::shared_ptr<Registry> registry) {
  ServiceOptions o;
  o.name = std::move(name);
  o.address = "127.0.0.1:0";
  o.registry_impl = std::move(registry);
  o.broker = "memory";
  o.handle_signals = false;
  o.register_interval = std::chrono::seconds(0);
  o.client.retries = 1;
  o.client.request_timeout = std::chrono::seconds(10);
  return o;
}

// Waits up to 10 s for pred.
template <class Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace micro::obs_test
