// A FAKE Consul agent for the tests (no Consul is packaged for Debian): just the HTTP API the
// registry plugin uses, on 127.0.0.1, with Consul's documented JSON shapes. Not Consul:
//   PUT /v1/agent/service/register            (ID, Name, Tags, Address, Port, Meta, Check.TTL,
//                                              Check.DeregisterCriticalServiceAfter)
//   PUT /v1/agent/service/deregister/<id>
//   PUT /v1/agent/check/pass/service:<id>     (404 for an unknown check)
//   GET /v1/health/service/<name>[?passing]   entries {Node, Service, Checks}
//   GET /v1/catalog/services                  {name: [tags]}
// Reads honour blocking queries (?index=N&wait=D: answer when the index passes N or after D)
// and answer X-Consul-Index (one index for everything: allowed, Consul's indexes are only
// promised to grow). A TTL check turns critical when not passed within its TTL (checked every
// 20 ms); a service critical for DeregisterCriticalServiceAfter is removed.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http/loopback_server.h"
#include "micro/context.h"

namespace micro::testing {

class FakeConsul {
 public:
  struct Service {
    nlohmann::json registration;  // as received
    std::string status = "passing";
    Duration ttl{0};
    Duration deregister_after{0};
    TimePoint last_pass{};
    TimePoint critical_since{};
  };

  FakeConsul() {
    server_ = std::make_unique<LoopbackServer>(
        [this](const SeenRequest& r, ServerConn& c) { Handle(r, c); });
    reaper_ = std::thread([this] { Reap(); });
  }
  ~FakeConsul() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    reaper_.join();
    server_.reset();
  }

  std::string address() const { return server_->address(); }

  // Test hooks.
  void Put(const std::string& id, nlohmann::json registration, std::string status = "passing") {
    std::lock_guard lock(mu_);
    Service s;
    s.registration = std::move(registration);
    s.status = std::move(status);
    services_[id] = std::move(s);
    Bump();
  }
  void Forget(const std::string& id) {
    std::lock_guard lock(mu_);
    services_.erase(id);
    Bump();
  }
  bool Has(const std::string& id) {
    std::lock_guard lock(mu_);
    return services_.count(id) > 0;
  }
  std::optional<Service> Get(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = services_.find(id);
    if (it == services_.end()) return std::nullopt;
    return it->second;
  }
  int count(const std::string& what) {
    std::lock_guard lock(mu_);
    return counts_[what];
  }
  // Targets of the blocking reads seen (those with index=).
  std::vector<std::string> blocking_reads() {
    std::lock_guard lock(mu_);
    return blocking_;
  }

 private:
  static std::string Unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  static Duration ParseWait(const std::string& w) {
    const long n = std::strtol(w.c_str(), nullptr, 10);
    if (w.ends_with("ms")) return std::chrono::milliseconds(n);
    if (w.ends_with("m")) return std::chrono::minutes(n);
    return std::chrono::seconds(n);
  }

  static Duration ParseGoDuration(const std::string& d) {
    // Enough of Go's syntax for what the plugin writes: "300ms", "5s", "1m5s", "1h0m0s".
    Duration total{0};
    std::size_t i = 0;
    while (i < d.size()) {
      std::size_t j = i;
      while (j < d.size() && (std::isdigit(static_cast<unsigned char>(d[j])) || d[j] == '.')) ++j;
      const double n = std::stod(d.substr(i, j - i));
      std::size_t k = j;
      while (k < d.size() && std::isalpha(static_cast<unsigned char>(d[k]))) ++k;
      const std::string unit = d.substr(j, k - j);
      const double ms = unit == "ms" ? 1 : unit == "s" ? 1e3 : unit == "m" ? 6e4 : 3.6e6;
      total += std::chrono::microseconds(static_cast<int64_t>(n * ms * 1000));
      i = k;
    }
    return total;
  }

  void Bump() {
    ++index_;
    cv_.notify_all();
  }

  void Reap() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      const auto now = Clock::now();
      for (auto it = services_.begin(); it != services_.end();) {
        Service& s = it->second;
        if (s.ttl > Duration::zero() && s.status == "passing" && now - s.last_pass > s.ttl) {
          s.status = "critical";
          s.critical_since = now;
          Bump();
        }
        if (s.status == "critical" && s.deregister_after > Duration::zero() &&
            now - s.critical_since > s.deregister_after) {
          it = services_.erase(it);
          Bump();
          continue;
        }
        ++it;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }

  static void Answer(ServerConn& c, int status, const std::string& body, uint64_t index) {
    std::string extra = "Content-Type: application/json\r\n";
    if (index) extra += "X-Consul-Index: " + std::to_string(index) + "\r\n";
    c.Write(Reply(status, body, extra));
  }

  void Handle(const SeenRequest& r, ServerConn& c) {
    // "GET /path?query HTTP/1.1"
    const auto sp1 = r.line.find(' ');
    const auto sp2 = r.line.rfind(' ');
    const std::string method = r.line.substr(0, sp1);
    const std::string target = r.line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto q = target.find('?');
    const std::string path = Unescape(target.substr(0, q));
    std::map<std::string, std::string> query;
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      std::size_t start = 0;
      while (start <= rest.size()) {
        auto amp = rest.find('&', start);
        std::string item = rest.substr(start, amp == std::string::npos ? amp : amp - start);
        auto eq = item.find('=');
        query[item.substr(0, eq)] = eq == std::string::npos ? "" : Unescape(item.substr(eq + 1));
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    std::unique_lock lock(mu_);
    if (method == "PUT" && path == "/v1/agent/service/register") {
      ++counts_["register"];
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (!j.is_object() || !j.contains("Name")) {
        lock.unlock();
        return Answer(c, 400, "Missing service name", 0);
      }
      Service s;
      s.registration = j;
      s.last_pass = Clock::now();
      if (j.contains("Check") && j["Check"].contains("TTL")) {
        s.ttl = ParseGoDuration(j["Check"]["TTL"].get<std::string>());
        s.status = "critical";  // a new TTL check starts critical, as Consul's
        s.critical_since = Clock::now();
        if (j["Check"].contains("DeregisterCriticalServiceAfter")) {
          s.deregister_after =
              ParseGoDuration(j["Check"]["DeregisterCriticalServiceAfter"].get<std::string>());
        }
      }
      const std::string id = j.value("ID", j["Name"].get<std::string>());
      services_[id] = std::move(s);
      Bump();
      lock.unlock();
      return Answer(c, 200, "", 0);
    }
    if (method == "PUT" && path.rfind("/v1/agent/service/deregister/", 0) == 0) {
      ++counts_["deregister"];
      const std::string id = path.substr(29);
      const bool had = services_.erase(id) > 0;
      if (had) Bump();
      lock.unlock();
      return Answer(c, had ? 200 : 404, had ? "" : "Unknown service ID " + id, 0);
    }
    if (method == "PUT" && path.rfind("/v1/agent/check/pass/service:", 0) == 0) {
      ++counts_["pass"];
      const std::string id = path.substr(29);
      auto it = services_.find(id);
      if (it == services_.end() || it->second.ttl == Duration::zero()) {
        lock.unlock();
        return Answer(c, 404, "Unknown check ID \"service:" + id + "\"", 0);
      }
      it->second.last_pass = Clock::now();
      if (it->second.status != "passing") {
        it->second.status = "passing";
        Bump();
      }
      lock.unlock();
      return Answer(c, 200, "", 0);
    }
    if (method == "GET" &&
        (path.rfind("/v1/health/service/", 0) == 0 || path == "/v1/catalog/services")) {
      if (query.count("index")) {
        blocking_.push_back(target);
        const uint64_t after = std::stoull(query["index"]);
        const Duration wait =
            query.count("wait") ? ParseWait(query["wait"]) : std::chrono::minutes(5);
        cv_.wait_for(lock, wait, [&] { return stopping_ || index_ > after; });
        if (stopping_) return;
      }
      nlohmann::json body;
      if (path == "/v1/catalog/services") {
        ++counts_["catalog"];
        body = nlohmann::json::object();
        for (const auto& [id, s] : services_) {
          auto& tags = body[s.registration["Name"].get<std::string>()];
          if (tags.is_null()) tags = nlohmann::json::array();
          for (const auto& t : s.registration.value("Tags", nlohmann::json::array())) {
            if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
          }
        }
      } else {
        ++counts_["health"];
        const std::string name = path.substr(19);
        const bool passing = query.count("passing") > 0;
        body = nlohmann::json::array();
        for (const auto& [id, s] : services_) {
          if (s.registration["Name"] != name) continue;
          if (passing && s.status != "passing") continue;
          nlohmann::json svc = {{"ID", id},
                                {"Service", name},
                                {"Tags", s.registration.value("Tags", nlohmann::json::array())},
                                {"Address", s.registration.value("Address", "")},
                                {"Meta", s.registration.value("Meta", nlohmann::json::object())},
                                {"Port", s.registration.value("Port", 0)}};
          nlohmann::json checks = nlohmann::json::array();
          checks.push_back({{"Node", "fake"}, {"CheckID", "serfHealth"}, {"Status", "passing"}});
          if (s.ttl > Duration::zero()) {
            checks.push_back({{"Node", "fake"},
                              {"CheckID", "service:" + id},
                              {"Status", s.status},
                              {"ServiceID", id}});
          }
          body.push_back({{"Node", {{"Node", "fake"}, {"Address", "127.0.0.1"}}},
                          {"Service", svc},
                          {"Checks", checks}});
        }
      }
      const uint64_t index = index_;
      lock.unlock();
      return Answer(c, 200, body.dump(), index);
    }
    lock.unlock();
    Answer(c, 404, "no such endpoint in the fake agent", 0);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t index_ = 1;
  std::map<std::string, Service> services_;
  std::map<std::string, int> counts_;
  std::vector<std::string> blocking_;
  std::thread reaper_;
  std::unique_ptr<LoopbackServer> server_;
};

}  // namespace micro::testing
