// Publish load and delivery records for the broker fault tests: a publisher thread at a fixed
// rate (open loop: each message on schedule), every message numbered (header "Id") and tagged
// with the test's current phase; subscribers that count how often each number arrived. The
// tests compare the two: what was published with success and never arrived is lost; what
// arrived twice is a duplicate.
//
//   faults::Deliveries plain;  broker->Subscribe(topic, plain.Handler());
//   faults::PublishLoad load(broker, topic, 500);
//   load.Start(); ... load.SetPhase(1); kill something ... load.Stop();
//   load.Published(1) / plain.Lost(load, 1)
//
// Threading: the counters may be read from any thread; Start/Stop from the test thread.
#pragma once

#include <micro/broker.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faults {

class PublishLoad {
 public:
  using Clock = std::chrono::steady_clock;
  struct Sent {
    int phase = 0;
    bool ok = false;
  };

  PublishLoad(std::shared_ptr<micro::Broker> broker, std::string topic, double rate)
      : broker_(std::move(broker)), topic_(std::move(topic)), rate_(rate) {}
  ~PublishLoad() { Stop(); }

  void Start() {
    started_ = Clock::now();
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  Clock::time_point started() const { return started_; }

  // Messages published from now on carry this phase.
  void SetPhase(int phase) { phase_ = phase; }

  std::vector<Sent> sent() {
    std::lock_guard lock(mu_);
    return sent_;
  }
  // Messages of `phase` whose Publish succeeded.
  int Published(int phase) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Sent& s : sent_) n += s.phase == phase && s.ok ? 1 : 0;
    return n;
  }
  int Failed(int phase) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Sent& s : sent_) n += s.phase == phase && !s.ok ? 1 : 0;
    return n;
  }

 private:
  void Run() {
    const auto period = std::chrono::duration<double>(1.0 / rate_);
    for (int64_t seq = 0; !stop_; ++seq) {
      std::this_thread::sleep_until(started_ +
                                    std::chrono::duration_cast<Clock::duration>(period * seq));
      const int phase = phase_;
      micro::Message m{{{"Id", std::to_string(seq)}}, "message " + std::to_string(seq)};
      const bool ok = broker_->Publish(topic_, m).ok();
      std::lock_guard lock(mu_);
      sent_.push_back({phase, ok});
    }
  }

  std::shared_ptr<micro::Broker> broker_;
  std::string topic_;
  double rate_;
  Clock::time_point started_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::mutex mu_;
  std::vector<Sent> sent_;  // index = message number
};

// How often each message number arrived, at one subscriber (or, merged, at a queue group).
class Deliveries {
 public:
  micro::broker::Handler Handler() {
    return [this](const micro::broker::Event& e) {
      const auto id = e.message.header.GetOr("Id");
      int64_t seq = -1;
      std::from_chars(id.data(), id.data() + id.size(), seq);
      std::lock_guard lock(mu_);
      ++count_[seq];
      return micro::Status{};
    };
  }

  int Count(int64_t seq) {
    std::lock_guard lock(mu_);
    auto it = count_.find(seq);
    return it == count_.end() ? 0 : it->second;
  }
  std::map<int64_t, int> counts() {
    std::lock_guard lock(mu_);
    return count_;
  }
  int64_t total() {
    std::lock_guard lock(mu_);
    int64_t n = 0;
    for (const auto& [seq, c] : count_) n += c;
    return n;
  }

 private:
  std::mutex mu_;
  std::map<int64_t, int> count_;
};

// What one subscriber (or a queue group: the sum of its members) received of the messages
// published with success, per phase.
struct PhaseTally {
  int published = 0;
  int received = 0;  // distinct messages that arrived at least once
  int lost = 0;      // published with success, never arrived
  int duplicated = 0;
};

// counts: message number -> deliveries (for a queue group, summed over the members).
inline PhaseTally Tally(const std::vector<PublishLoad::Sent>& sent,
                        const std::map<int64_t, int>& counts, int phase) {
  PhaseTally t;
  for (std::size_t seq = 0; seq < sent.size(); ++seq) {
    if (sent[seq].phase != phase || !sent[seq].ok) continue;
    ++t.published;
    auto it = counts.find(static_cast<int64_t>(seq));
    const int c = it == counts.end() ? 0 : it->second;
    if (c == 0) ++t.lost;
    if (c >= 1) ++t.received;
    if (c > 1) ++t.duplicated;
  }
  return t;
}

// Deliveries of one phase that resumed after an outage: the first message of the phase that
// arrived is where delivery resumed; what was lost before it is the outage's toll, what was
// lost after it is a defect.
struct ResumeTally {
  int published = 0;
  int64_t resumed_at = -1;  // messages of the phase published before the first that arrived
  int lost_before = 0;
  int lost_after = 0;
  int duplicated = 0;
};

inline ResumeTally Resume(const std::vector<PublishLoad::Sent>& sent,
                          const std::map<int64_t, int>& counts, int phase) {
  ResumeTally t;
  for (std::size_t seq = 0; seq < sent.size(); ++seq) {
    if (sent[seq].phase != phase || !sent[seq].ok) continue;
    auto it = counts.find(static_cast<int64_t>(seq));
    const int c = it == counts.end() ? 0 : it->second;
    if (c > 0 && t.resumed_at < 0) t.resumed_at = t.published;
    ++t.published;
    if (c == 0) ++(t.resumed_at < 0 ? t.lost_before : t.lost_after);
    if (c > 1) ++t.duplicated;
  }
  return t;
}

inline std::string ToString(const ResumeTally& t) {
  return "published " + std::to_string(t.published) + ", resumed at message " +
         std::to_string(t.resumed_at) + ", lost before " + std::to_string(t.lost_before) +
         ", lost after " + std::to_string(t.lost_after) + ", duplicated " +
         std::to_string(t.duplicated);
}

inline std::map<int64_t, int> Sum(std::map<int64_t, int> a, const std::map<int64_t, int>& b) {
  for (const auto& [seq, c] : b) a[seq] += c;
  return a;
}

inline std::string ToString(const PhaseTally& t) {
  return "published " + std::to_string(t.published) + ", received " + std::to_string(t.received) +
         ", lost " + std::to_string(t.lost) + ", duplicated " + std::to_string(t.duplicated);
}

}  // namespace faults
