#include "broker/outbox.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "micro/http_client.h"
#include "micro/logger.h"
#include "util/worker_pool.h"

namespace micro::broker_detail {
namespace {

constexpr Duration kPostTimeout = std::chrono::seconds(5);
constexpr Duration kMaxBackoff = std::chrono::seconds(2);

// One published message. Every delivery of it holds the ticket; when the last one ends
// (delivered or dropped) the topic's undelivered count goes down.
struct Ticket {
  explicit Ticket(std::shared_ptr<std::atomic<std::size_t>> c) : counter(std::move(c)) {}
  ~Ticket() { counter->fetch_sub(1); }
  std::shared_ptr<std::atomic<std::size_t>> counter;
};

struct Delivery {
  std::string topic;
  std::shared_ptr<const std::string> payload;
  std::shared_ptr<Ticket> ticket;
  bool resolved = false;  // false: fan out to the topic's targets on dispatch
  std::string node_id;    // a broadcast target
  std::string queue;      // a queue target (any member)
  int attempts = 0;
  TimePoint first_failure{};
};

// The deliveries waiting for one subscriber node, sent in order by one coroutine.
struct Lane {
  std::string node_id;
  std::string address;
  std::deque<Delivery> queue;
  bool running = false;
};

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Duration Backoff(int attempts) {
  Duration d = std::chrono::milliseconds(100) * (1 << std::min(attempts - 1, 5));
  return std::min(d, kMaxBackoff);
}

std::vector<const registry::Node*> TopicNodes(const registry::Service& service,
                                              const std::string& topic) {
  std::vector<const registry::Node*> nodes;
  for (const auto& node : service.nodes) {
    auto broker = node.metadata.find("broker");
    auto t = node.metadata.find("topic");
    if (broker != node.metadata.end() && broker->second == "http" && t != node.metadata.end() &&
        t->second == topic) {
      nodes.push_back(&node);
    }
  }
  return nodes;
}

http::ClientOptions ClientOptionsFor(const asio::any_io_executor& ex, const OutboxOptions& o) {
  http::ClientOptions c;
  c.executor = ex;
  c.secure = o.secure;
  c.tls = o.tls;
  // Subscribers serve self-signed certificates unless told otherwise (go-micro skips
  // verification for the same reason).
  if (o.tls.ca_file.empty() && o.tls.ca_pem.empty()) c.tls.insecure_skip_verify = true;
  c.request_timeout = kPostTimeout;
  c.connect_timeout = kPostTimeout;
  return c;
}

}  // namespace

struct Outbox::State : std::enable_shared_from_this<Outbox::State> {
  State(asio::any_io_executor e, std::shared_ptr<Registry> l, OutboxOptions o)
      : ex(std::move(e)), lookup(std::move(l)), options(o), client(ClientOptionsFor(ex, o)) {}

  asio::any_io_executor ex;
  std::shared_ptr<Registry> lookup;
  OutboxOptions options;
  http::Client client;
  std::mt19937 rng{std::random_device{}()};

  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;
  std::deque<Delivery> ready;                  // to route now
  std::multimap<TimePoint, Delivery> waiting;  // retries, by due time
  std::map<std::string, std::shared_ptr<std::atomic<std::size_t>>> undelivered;  // by topic
  std::map<std::string, std::shared_ptr<Lane>> lanes;                            // by node id
  std::thread dispatcher;

  void RunDispatcher() {
    std::unique_lock lock(mu);
    while (!stopped) {
      const auto now = Clock::now();
      while (!waiting.empty() && waiting.begin()->first <= now) {
        ready.push_back(std::move(waiting.begin()->second));
        waiting.erase(waiting.begin());
      }
      if (ready.empty()) {
        if (waiting.empty()) {
          cv.wait(lock);
        } else {
          cv.wait_until(lock, waiting.begin()->first);
        }
        continue;
      }
      std::vector<Delivery> batch(std::make_move_iterator(ready.begin()),
                                  std::make_move_iterator(ready.end()));
      ready.clear();
      lock.unlock();
      auto found = lookup->GetService(kServiceName);  // may block: this thread's job
      lock.lock();
      if (stopped) break;
      static const std::vector<registry::Service> kNone;
      const auto& services = found ? *found : kNone;
      for (auto& d : batch) Route(std::move(d), services);
    }
  }

  // Under mu: sends d to its targets among services (or drops it, logged).
  void Route(Delivery d, const std::vector<registry::Service>& services) {
    if (!d.resolved) {
      for (const auto& s : services) {
        auto nodes = TopicNodes(s, d.topic);
        if (nodes.empty()) continue;
        if (s.version == kBroadcastVersion) {
          for (const auto* node : nodes) {
            Delivery copy = d;
            copy.resolved = true;
            copy.node_id = node->id;
            Enqueue(*node, std::move(copy));
          }
        } else {
          Delivery copy = d;
          copy.resolved = true;
          copy.queue = s.version;
          Enqueue(*nodes[rng() % nodes.size()], std::move(copy));
        }
      }
      return;  // no subscriber at all: dropped with d's ticket, as go-micro
    }
    for (const auto& s : services) {
      const bool broadcast = s.version == kBroadcastVersion;
      if (broadcast != d.queue.empty() || (!broadcast && s.version != d.queue)) continue;
      auto nodes = TopicNodes(s, d.topic);
      if (broadcast) {
        for (const auto* node : nodes) {
          if (node->id == d.node_id) return Enqueue(*node, std::move(d));
        }
      } else if (!nodes.empty()) {
        return Enqueue(*nodes[rng() % nodes.size()], std::move(d));
      }
    }
    log::Warn("Broker http: dropping a message on {}: its subscriber {} left the registry", d.topic,
              d.queue.empty() ? d.node_id : "queue " + d.queue);
  }

  // Under mu.
  void Enqueue(const registry::Node& node, Delivery d) {
    auto& lane = lanes[node.id];
    if (!lane) lane = std::make_shared<Lane>(Lane{.node_id = node.id, .address = node.address});
    lane->address = node.address;
    lane->queue.push_back(std::move(d));
    if (!lane->running) {
      lane->running = true;
      asio::co_spawn(ex, RunLane(shared_from_this(), lane), asio::detached);
    }
  }

  static asio::awaitable<void> RunLane(std::shared_ptr<State> self, std::shared_ptr<Lane> lane) {
    const std::string target = "/?id=" + QueryEscape(lane->node_id);
    for (;;) {
      Delivery d;
      std::string address;
      {
        std::lock_guard lock(self->mu);
        if (self->stopped || lane->queue.empty()) {
          lane->running = false;
          if (auto it = self->lanes.find(lane->node_id);
              it != self->lanes.end() && it->second == lane && lane->queue.empty()) {
            self->lanes.erase(it);
          }
          co_return;
        }
        d = std::move(lane->queue.front());
        lane->queue.pop_front();
        address = lane->address;
      }
      http::Request request;
      request.method = "POST";
      request.target = target;
      request.header.Set("Content-Type", "application/json");
      request.body = *d.payload;
      auto response = co_await self->client.Send(address, std::move(request));
      if (!response) {
        self->Failed(std::move(d), response.error().detail);
      } else if (response->status != 200) {
        self->Failed(std::move(d), fmt::format("{} {}", response->status, response->body));
      }
    }
  }

  void Failed(Delivery d, const std::string& why) {
    std::lock_guard lock(mu);
    if (stopped) return;
    const auto now = Clock::now();
    if (d.attempts++ == 0) {
      d.first_failure = now;
      log::Warn("Broker http: delivery on {} failed, retrying: {}", d.topic, why);
    }
    if (options.retry_for > Duration::zero() && now - d.first_failure > options.retry_for) {
      log::Error("Broker http: dropping a message on {} after {} attempts: {}", d.topic, d.attempts,
                 why);
      return;
    }
    waiting.emplace(now + Backoff(d.attempts), std::move(d));
    cv.notify_one();
  }
};

Outbox::Outbox(asio::any_io_executor ex, std::shared_ptr<Registry> lookup, OutboxOptions options)
    : state_(std::make_shared<State>(std::move(ex), std::move(lookup), options)) {
  state_->dispatcher = std::thread([s = state_.get()] {
    util::SetThreadName("micro-outbox");
    s->RunDispatcher();
  });
}

Outbox::~Outbox() { Stop(); }

Status Outbox::Publish(const std::string& topic, std::string payload) {
  std::lock_guard lock(state_->mu);
  if (state_->stopped) {
    return errors::New(std::string(broker::kErrorId), "not connected", 503);
  }
  auto& counter = state_->undelivered[topic];
  if (!counter) counter = std::make_shared<std::atomic<std::size_t>>(0);
  if (counter->load() >= state_->options.inbox_limit) {
    return errors::New(std::string(broker::kErrorId),
                       fmt::format("inbox of topic \"{}\" is full ({} undelivered messages)", topic,
                                   state_->options.inbox_limit),
                       429);
  }
  counter->fetch_add(1);
  state_->ready.push_back(
      Delivery{.topic = topic,
               .payload = std::make_shared<const std::string>(std::move(payload)),
               .ticket = std::make_shared<Ticket>(counter)});
  state_->cv.notify_one();
  return {};
}

void Outbox::Drain(Duration timeout) {
  const auto until = Clock::now() + timeout;
  for (;;) {
    std::size_t queued = 0;
    {
      std::lock_guard lock(state_->mu);
      if (state_->stopped) return;
      for (const auto& [topic, counter] : state_->undelivered) queued += counter->load();
    }
    if (queued == 0 || Clock::now() >= until) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void Outbox::Stop() {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    dropped = state_->ready.size() + state_->waiting.size();
    for (auto& [id, lane] : state_->lanes) dropped += lane->queue.size();
    state_->ready.clear();
    state_->waiting.clear();
    for (auto& [id, lane] : state_->lanes) lane->queue.clear();
    state_->cv.notify_all();
  }
  if (state_->dispatcher.joinable()) state_->dispatcher.join();
  if (dropped > 0) log::Warn("Broker http: disconnected with {} deliveries unsent", dropped);
}

}  // namespace micro::broker_detail
