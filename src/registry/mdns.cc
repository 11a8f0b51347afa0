// The mDNS registry (go-micro's default): announces each registered node as PTR/SRV/TXT/A
// records under domain `micro`, answers queries for them, queries the group for lookups and
// turns announcements and goodbyes into watch events. One asio thread per registry.
#include <ifaddrs.h>
#include <micro/logger.h>
#include <micro/registry.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "micro/plugin/watch.h"
#include "registry/mdns_records.h"
#include "registry/mdns_registry.h"

namespace micro {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::udp;
using registry::Service;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

const asio::ip::address_v4 kGroup = asio::ip::make_address_v4("224.0.0.251");
const asio::ip::address_v6 kGroup6 = asio::ip::make_address_v6("ff02::fb");

// One interface mDNS runs on: its IPv4 address (for the IPv4 group) and its index (for the
// IPv6 group, when it has an IPv6 address).
struct MdnsInterface {
  std::string name;
  unsigned index = 0;
  std::optional<asio::ip::address_v4> v4;
  bool v6 = false;
};

// Every interface that is up and multicast-capable (go-micro's mdns server listens on all of
// them), with its addresses. Loopback counts only when it has the multicast flag.
std::vector<MdnsInterface> MulticastInterfaces() {
  std::vector<MdnsInterface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST)) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](auto& m) { return m.name == i->ifa_name; });
    if (it == out.end()) {
      out.push_back({.name = i->ifa_name, .index = if_nametoindex(i->ifa_name)});
      it = out.end() - 1;
    }
    if (family == AF_INET && !it->v4) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      it->v4 = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
    } else if (family == AF_INET6) {
      it->v6 = true;
    }
  }
  freeifaddrs(list);
  return out;
}

// The interface index owning an IPv4 address or named so; 0 when there is none.
unsigned InterfaceIndex(std::string_view spec, const asio::ip::address_v4& v4) {
  unsigned index = 0;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return 0;
  for (ifaddrs* i = list; i && !index; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    if (spec == i->ifa_name) {
      index = if_nametoindex(i->ifa_name);
    } else if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      if (asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)) == v4) {
        index = if_nametoindex(i->ifa_name);
      }
    }
  }
  freeifaddrs(list);
  return index;
}

bool HasIpv6(unsigned index) {
  bool found = false;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    found =
        i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 && if_nametoindex(i->ifa_name) == index;
  }
  freeifaddrs(list);
  return found;
}

std::string Param(const RegistryOptions& o, const std::string& key, std::string fallback) {
  auto it = o.params.find(key);
  return it == o.params.end() || it->second.empty() ? fallback : it->second;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string h = buf;
  while (!h.empty() && h.back() == '.') h.pop_back();
  return h;
}

// "127.0.0.1" or an interface name such as "lo" -> its IPv4 address.
Result<asio::ip::address_v4> ResolveInterface(std::string_view spec) {
  std::error_code ec;
  auto addr = asio::ip::make_address_v4(std::string(spec), ec);
  if (!ec) return addr;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    std::optional<asio::ip::address_v4> found;
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || spec != i->ifa_name) continue;
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      found = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
      break;
    }
    freeifaddrs(list);
    if (found) return *found;
  }
  return errors::InternalServerError(error_ids::kMdns,
                                     "mdns: \"{}\" is neither an IPv4 address nor an interface "
                                     "with an IPv4 address",
                                     spec);
}

struct ZoneState {
  mdns::NodeZone zone;
  uint64_t generation = 0;
};

class MdnsRegistry : public Registry {
 public:
  explicit MdnsRegistry(RegistryOptions options)
      : options_(std::move(options)),
        domain_(Param(options_, "mdns.domain", "micro")),
        hostname_(Param(options_, "mdns.hostname", HostName())),
        use_v4_(Param(options_, "mdns.ipv4", "true") != "false"),
        use_v6_(Param(options_, "mdns.ipv6", "true") != "false"),
        listen_(io_),
        listen6_(io_) {}

  Status Open() {
    try {
      port_ = static_cast<uint16_t>(std::stoi(Param(options_, "mdns.port", "5353")));
    } catch (...) {
      return errors::BadRequest(error_ids::kMdns, "mdns.port is not a port number");
    }
    // No addresses given: MICRO_REGISTRY_ADDRESS, as go-micro's command line would fill them.
    std::vector<std::string> addrs = options_.addrs;
    if (addrs.empty()) {
      if (const char* env = std::getenv("MICRO_REGISTRY_ADDRESS"); env && *env) {
        addrs.emplace_back(env);
      }
    }
    // Each entry may itself be a comma-separated list, as a --registry_address value is.
    for (const std::string& entry : addrs) {
      std::string_view rest = entry;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        std::string_view spec = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
        while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
        if (spec.empty()) continue;
        auto a = ResolveInterface(spec);
        if (!a) return std::move(a).error();
        if (std::find(interfaces_.begin(), interfaces_.end(), *a) == interfaces_.end()) {
          interfaces_.push_back(*a);
          const unsigned index = InterfaceIndex(spec, *a);
          if (index && HasIpv6(index) &&
              std::find(v6_interfaces_.begin(), v6_interfaces_.end(), index) ==
                  v6_interfaces_.end()) {
            v6_interfaces_.push_back(index);
          }
        }
      }
    }
    // Not pinned: every multicast-capable interface, IPv4 and IPv6 (none found: the kernel's
    // default multicast route).
    const bool pinned = !interfaces_.empty();
    if (!pinned) {
      for (const MdnsInterface& i : MulticastInterfaces()) {
        if (i.v4) interfaces_.push_back(*i.v4);
        if (i.v6 && i.index) v6_interfaces_.push_back(i.index);
      }
    }
    if (!use_v4_ && !use_v6_) {
      return errors::BadRequest(error_ids::kMdns, "mdns: both IPv4 and IPv6 are turned off");
    }
    if (use_v6_ && (!pinned || !v6_interfaces_.empty())) {
      if (std::error_code e6 = OpenIpv6(); e6) {
        if (!use_v4_) {
          return errors::InternalServerError(error_ids::kMdns, "mdns: cannot open UDP6 {}: {}",
                                             port_, e6.message());
        }
        log::Debug("mdns: no IPv6 ({}); IPv4 only", e6.message());
        std::error_code ignored;
        listen6_.close(ignored);
      }
    }
    if (!use_v4_) {
      if (!listen6_.is_open()) {
        return errors::InternalServerError(error_ids::kMdns, "mdns: no IPv6 interface to use");
      }
      StartThread();
      return {};
    }
    std::error_code ec;
    listen_.open(udp::v4(), ec);
    if (!ec) listen_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) listen_.set_option(reuse_port(true), ec);
    if (!ec) listen_.bind(udp::endpoint(asio::ip::address_v4::any(), port_), ec);
    if (!ec) ec = SetMulticastOptions(listen_);
    if (!ec) {
      if (interfaces_.empty()) {
        listen_.set_option(asio::ip::multicast::join_group(kGroup), ec);
      } else {
        // A pinned interface must work; of the ones found, those that do are enough.
        bool joined = false;
        for (const auto& i : interfaces_) {
          std::error_code one;
          listen_.set_option(asio::ip::multicast::join_group(kGroup, i), one);
          if (one && pinned) {
            ec = one;
            break;
          }
          if (one)
            log::Debug("mdns: cannot join 224.0.0.251 on {}: {}", i.to_string(), one.message());
          joined = joined || !one;
        }
        if (!ec && !joined) ec = std::make_error_code(std::errc::address_not_available);
      }
    }
    if (ec) {
      return errors::InternalServerError(error_ids::kMdns, "mdns: cannot open UDP {}: {}", port_,
                                         ec.message());
    }
    StartThread();
    return {};
  }

  // The IPv6 socket: [::]:port, ff02::fb joined on every IPv6 interface (or the default one).
  std::error_code OpenIpv6() {
    std::error_code ec;
    listen6_.open(udp::v6(), ec);
    if (!ec) listen6_.set_option(asio::ip::v6_only(true), ec);
    if (!ec) listen6_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) listen6_.set_option(reuse_port(true), ec);
    if (!ec) listen6_.bind(udp::endpoint(asio::ip::address_v6::any(), port_), ec);
    if (!ec) ec = SetMulticastOptions6(listen6_);
    if (ec) return ec;
    if (v6_interfaces_.empty()) {
      listen6_.set_option(asio::ip::multicast::join_group(kGroup6), ec);
      return ec;
    }
    bool joined = false;
    for (unsigned index : v6_interfaces_) {
      std::error_code one;
      listen6_.set_option(asio::ip::multicast::join_group(kGroup6, index), one);
      if (one) {
        log::Debug("mdns: cannot join ff02::fb on interface {}: {}", index, one.message());
      } else {
        joined = true;
      }
    }
    if (!joined) ec = std::make_error_code(std::errc::address_not_available);
    return ec;
  }

  void StartThread() {
    if (listen_.is_open()) asio::co_spawn(io_, ReceiveLoop(listen_), asio::detached);
    if (listen6_.is_open()) asio::co_spawn(io_, ReceiveLoop(listen6_), asio::detached);
    thread_ = std::thread([this] {
      util::SetThreadName("micro-mdns");
      io_.run();
    });
  }

  ~MdnsRegistry() override {
    if (thread_.joinable()) {
      std::promise<void> done;
      asio::post(io_, [&] {
        std::lock_guard lock(mu_);
        for (auto& [name, nodes] : services_) {
          for (auto& [id, z] : nodes) Multicast(mdns::ZoneRecords(z.zone, domain_, 0));
        }
        for (auto& [name, z] : wildcards_) Multicast(mdns::ZoneRecords(z.zone, domain_, 0));
        std::error_code ec;
        listen_.close(ec);
        listen6_.close(ec);
        done.set_value();
      });
      done.get_future().wait();
      work_.reset();
      io_.stop();
      thread_.join();
    }
    std::lock_guard lock(mu_);
    for (auto& w : watchers_) {
      if (auto q = w.lock()) q->Stop();
    }
  }

  Status Register(const Service& service, const RegisterOptions&) override {
    if (service.name.empty()) return errors::BadRequest(error_ids::kMdns, "service name is empty");
    std::vector<mdns::NodeZone> zones;
    for (const registry::Node& node : service.nodes) {
      auto z = mdns::MakeNodeZone(service, node, domain_, hostname_);
      if (!z) return std::move(z).error();
      zones.push_back(std::move(*z));
    }
    std::lock_guard lock(mu_);
    if (!wildcards_.count(service.name)) {
      auto& w = wildcards_[service.name];
      w.zone = mdns::MakeWildcardZone(service.name, domain_, hostname_);
      w.generation = ++generation_;
      StartAnnouncing(w);
    }
    auto& nodes = services_[service.name];
    for (size_t i = 0; i < zones.size(); ++i) {
      auto [it, added] = nodes.try_emplace(service.nodes[i].id);
      ZoneState& st = it->second;
      const bool same = !added && st.zone.txt == zones[i].txt && st.zone.port == zones[i].port &&
                        st.zone.ipv4 == zones[i].ipv4 && st.zone.ipv6 == zones[i].ipv6;
      if (same) continue;  // already announced: a no-op, as in go-micro
      st.zone = std::move(zones[i]);
      st.generation = ++generation_;
      StartAnnouncing(st);
    }
    return {};
  }

  Status Deregister(const Service& service) override {
    std::vector<dns::Record> goodbye;
    {
      std::lock_guard lock(mu_);
      auto sit = services_.find(service.name);
      if (sit == services_.end()) return {};
      for (const registry::Node& node : service.nodes) {
        auto it = sit->second.find(node.id);
        if (it == sit->second.end()) continue;
        auto recs = mdns::ZoneRecords(it->second.zone, domain_, 0);
        goodbye.insert(goodbye.end(), recs.begin(), recs.end());
        sit->second.erase(it);
      }
      if (sit->second.empty()) {
        services_.erase(sit);
        if (auto w = wildcards_.find(service.name); w != wildcards_.end()) {
          auto recs = mdns::ZoneRecords(w->second.zone, domain_, 0);
          goodbye.insert(goodbye.end(), recs.begin(), recs.end());
          wildcards_.erase(w);
        }
      }
    }
    if (!goodbye.empty()) {
      asio::post(io_, [this, goodbye = std::move(goodbye)] { Multicast(goodbye); });
    }
    return {};
  }

  Result<std::vector<Service>> GetService(std::string_view name) override {
    // Nothing heard is an empty list, not ErrNotFound(), as go-micro's mdns registry answers.
    if (name.empty()) return std::vector<Service>{};
    auto future = asio::co_spawn(io_, Query(mdns::ServiceName(name, domain_)), asio::use_future);
    std::vector<dns::Message> replies = future.get();
    std::map<std::string, Service> by_version;
    std::set<std::pair<std::string, std::string>> seen;  // (version, node id)
    for (const dns::Message& m : replies) {
      for (const mdns::Entry& e : mdns::Entries(m)) {
        if (e.ttl == 0) continue;
        auto s = mdns::ToService(e, name, domain_);
        if (!s) continue;
        if (!seen.emplace(s->version, s->nodes[0].id).second) continue;
        auto [it, added] = by_version.try_emplace(s->version, *s);
        if (!added) it->second.nodes.push_back(std::move(s->nodes[0]));
      }
    }
    std::vector<Service> out;
    for (auto& [v, s] : by_version) out.push_back(std::move(s));
    return out;
  }

  Result<std::vector<Service>> ListServices() override {
    const std::string list = mdns::ServiceName("_services", domain_);
    auto future = asio::co_spawn(io_, Query(list), asio::use_future);
    std::set<std::string> names;
    const std::string suffix = "." + list;
    for (const dns::Message& m : future.get()) {
      for (const dns::Record& r : m.answers) {
        if (r.type != dns::kTypePtr || r.ttl == 0 || !dns::NameEquals(r.name, list)) continue;
        if (r.target.size() <= suffix.size()) continue;
        const std::string_view tail =
            std::string_view(r.target).substr(r.target.size() - suffix.size());
        if (!dns::NameEquals(tail, suffix)) continue;
        names.insert(r.target.substr(0, r.target.size() - suffix.size()));
      }
    }
    std::vector<Service> out;
    for (const std::string& n : names) {
      Service s;
      s.name = n;
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<std::unique_ptr<registry::Watcher>> Watch(const WatchOptions& options) override {
    auto queue = std::make_shared<plugin::WatchQueue>(options.service);
    std::lock_guard lock(mu_);
    std::erase_if(watchers_, [](const auto& w) { return w.expired(); });
    watchers_.push_back(queue);
    return std::unique_ptr<registry::Watcher>(std::make_unique<plugin::QueueWatcher>(queue));
  }

  std::string String() const override { return "mdns"; }

  mdns::Stats stats() const {
    mdns::Stats st{
        .packets = packets_.load(), .malformed = malformed_.load(), .answered = answered_.load()};
    for (const auto& a : interfaces_) st.ipv4_interfaces.push_back(a.to_string());
    if (listen_.is_open() && interfaces_.empty()) st.ipv4_interfaces.push_back("default");
    st.ipv6_interfaces = v6_interfaces_;
    st.ipv6 = listen6_.is_open();
    st.ipv4 = listen_.is_open();
    return st;
  }

 private:
  std::error_code SetMulticastOptions(udp::socket& s) {
    std::error_code ec;
    s.set_option(asio::ip::multicast::hops(255), ec);
    if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
    if (!ec && !interfaces_.empty()) {
      s.set_option(asio::ip::multicast::outbound_interface(interfaces_.front()), ec);
    }
    return ec;
  }

  std::error_code SetMulticastOptions6(udp::socket& s) {
    std::error_code ec;
    s.set_option(asio::ip::multicast::hops(255), ec);
    if (!ec) s.set_option(asio::ip::multicast::enable_loopback(true), ec);
    return ec;
  }

  // Sends to ff02::fb through every IPv6 interface (or the default one). Runs on io_.
  void SendToGroup6(udp::socket& s, const std::string& bytes) {
    std::error_code ec;
    if (v6_interfaces_.empty()) {
      s.send_to(asio::buffer(bytes), udp::endpoint(kGroup6, port_), 0, ec);
    }
    for (unsigned index : v6_interfaces_) {
      asio::ip::address_v6 group = kGroup6;
      group.scope_id(index);
      s.set_option(asio::ip::multicast::outbound_interface(index), ec);
      s.send_to(asio::buffer(bytes), udp::endpoint(group, port_), 0, ec);
    }
    if (ec) log::Debug("mdns: IPv6 send failed: {}", ec.message());
  }

  // Sends to both groups through the open listening sockets.
  void SendToAll(const std::string& bytes) {
    if (listen_.is_open()) SendToGroup(listen_, bytes);
    if (listen6_.is_open()) SendToGroup6(listen6_, bytes);
  }

  // Sends to the group through every pinned interface (or the default route). Runs on io_.
  void SendToGroup(udp::socket& s, const std::string& bytes) {
    std::error_code ec;
    const udp::endpoint group(kGroup, port_);
    if (interfaces_.empty()) {
      s.send_to(asio::buffer(bytes), group, 0, ec);
    } else {
      for (const auto& i : interfaces_) {
        s.set_option(asio::ip::multicast::outbound_interface(i), ec);
        s.send_to(asio::buffer(bytes), group, 0, ec);
      }
    }
    if (ec) log::Debug("mdns: send failed: {}", ec.message());
  }

  void Multicast(std::vector<dns::Record> records) {
    dns::Message m;
    m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
    m.answers = std::move(records);
    auto bytes = dns::Encode(m);
    if (bytes) SendToAll(*bytes);
  }

  // Under mu_. Three unsolicited announcements: now, +1 s, +3 s (go-micro: 1 s then doubling).
  void StartAnnouncing(const ZoneState& st) {
    asio::co_spawn(io_, Announce(st.zone.service, st.zone.instance, st.generation), asio::detached);
  }

  awaitable<void> Announce(std::string service, std::string instance, uint64_t generation) {
    asio::steady_timer timer(io_);
    for (int i = 0; i < 3; ++i) {
      if (i > 0) {
        timer.expires_after(std::chrono::seconds(1 << (i - 1)));
        std::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
      }
      std::vector<dns::Record> records;
      {
        std::lock_guard lock(mu_);
        const ZoneState* st = Find(service, instance);
        if (!st || st->generation != generation) co_return;  // gone or replaced
        records = mdns::ZoneRecords(st->zone, domain_, mdns::kRecordTtl);
      }
      Multicast(std::move(records));
    }
  }

  // Under mu_.
  const ZoneState* Find(const std::string& service, const std::string& instance) const {
    if (service == "_services") {
      for (const auto& [name, w] : wildcards_) {
        if (w.zone.instance == instance) return &w;
      }
      return nullptr;
    }
    auto sit = services_.find(service);
    if (sit == services_.end()) return nullptr;
    for (const auto& [id, st] : sit->second) {
      if (st.zone.instance == instance) return &st;
    }
    return nullptr;
  }

  awaitable<void> ReceiveLoop(udp::socket& sock) {
    std::vector<uint8_t> buf(65536);
    for (;;) {
      udp::endpoint from;
      std::error_code ec;
      const size_t n = co_await sock.async_receive_from(asio::buffer(buf), from,
                                                        asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !sock.is_open()) co_return;
      if (ec) continue;
      ++packets_;
      auto msg = dns::Decode(std::span<const uint8_t>(buf.data(), n));
      if (!msg) {
        ++malformed_;
        log::Debug("mdns: dropped malformed packet from {}: {}", from.address().to_string(),
                   msg.error().detail);
        continue;
      }
      if (msg->IsResponse()) {
        Dispatch(*msg);
      } else {
        HandleQuery(*msg, from, sock);
      }
    }
  }

  void HandleQuery(const dns::Message& query, const udp::endpoint& from, udp::socket& sock) {
    std::vector<std::string> replies;
    {
      std::lock_guard lock(mu_);
      auto answer = [&](const mdns::NodeZone& zone) {
        for (const dns::Question& q : query.questions) {
          auto recs = mdns::Answer(zone, domain_, q);
          if (recs.empty()) continue;
          dns::Message m;
          m.id = query.id;
          m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
          m.questions.push_back(q);
          m.answers = std::move(recs);
          if (auto bytes = dns::Encode(m)) replies.push_back(std::move(*bytes));
        }
      };
      for (const auto& [name, nodes] : services_) {
        for (const auto& [id, st] : nodes) answer(st.zone);
      }
      for (const auto& [name, st] : wildcards_) answer(st.zone);
    }
    if (replies.empty()) return;
    answered_ += 1;
    // A querier on port 5353 is a full mDNS responder: answer the group. Others (go-micro's
    // client, ours) listen on an ephemeral port: answer them directly, as go-micro does.
    for (const std::string& r : replies) {
      if (from.port() == port_) {
        SendToAll(r);
      } else {
        std::error_code ec;
        sock.send_to(asio::buffer(r), from, 0, ec);
      }
    }
  }

  // Announcements and goodbyes -> watch events.
  void Dispatch(const dns::Message& msg) {
    std::vector<registry::Event> events;
    for (const mdns::Entry& e : mdns::Entries(msg)) {
      auto s = mdns::ToService(e, "", domain_);
      if (!s || s->version.empty()) continue;  // go-micro's watcher needs Service and Version
      events.push_back(
          {.type = e.ttl == 0 ? registry::EventType::kDelete : registry::EventType::kCreate,
           .service = std::move(*s),
           .timestamp = std::chrono::system_clock::now()});
    }
    if (events.empty()) return;
    std::lock_guard lock(mu_);
    for (auto& w : watchers_) {
      auto q = w.lock();
      if (!q) continue;
      for (const auto& ev : events) {
        if (q->Wants(ev.service.name)) q->Push(ev);
      }
    }
  }

  // An ephemeral socket of one family set up for multicast, or null.
  std::shared_ptr<udp::socket> QuerySocket(bool v6) {
    auto sock = std::make_shared<udp::socket>(io_);
    std::error_code ec;
    sock->open(v6 ? udp::v6() : udp::v4(), ec);
    if (!ec && v6) sock->set_option(asio::ip::v6_only(true), ec);
    if (!ec) {
      sock->bind(v6 ? udp::endpoint(asio::ip::address_v6::any(), 0)
                    : udp::endpoint(asio::ip::address_v4::any(), 0),
                 ec);
    }
    if (!ec) ec = v6 ? SetMulticastOptions6(*sock) : SetMulticastOptions(*sock);
    if (ec) {
      log::Warn("mdns: cannot open a query socket: {}", ec.message());
      return nullptr;
    }
    return sock;
  }

  // Reads replies from sock until it is closed.
  static awaitable<void> Collect(std::shared_ptr<udp::socket> sock,
                                 std::shared_ptr<std::vector<dns::Message>> replies,
                                 std::atomic<uint64_t>* malformed) {
    std::vector<uint8_t> buf(65536);
    for (;;) {
      udp::endpoint from;
      std::error_code ec;
      const size_t n = co_await sock->async_receive_from(asio::buffer(buf), from,
                                                         asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      auto msg = dns::Decode(std::span<const uint8_t>(buf.data(), n));
      if (!msg) {
        ++*malformed;
        continue;
      }
      if (msg->IsResponse()) replies->push_back(std::move(*msg));
    }
  }

  // Sends one query from fresh ephemeral sockets (IPv4 and IPv6, as open) and gathers the
  // replies for timeout.
  awaitable<std::vector<dns::Message>> Query(std::string name) {
    auto replies = std::make_shared<std::vector<dns::Message>>();
    dns::Message q;
    thread_local std::minstd_rand rng{std::random_device{}()};
    q.id = static_cast<uint16_t>(rng());
    q.questions.push_back({.name = name, .type = dns::kTypePtr});
    auto bytes = dns::Encode(q);
    if (!bytes) co_return *replies;
    std::vector<std::shared_ptr<udp::socket>> socks;
    if (listen_.is_open()) {
      if (auto s4 = QuerySocket(false)) {
        SendToGroup(*s4, *bytes);
        socks.push_back(std::move(s4));
      }
    }
    if (listen6_.is_open()) {
      if (auto s6 = QuerySocket(true)) {
        SendToGroup6(*s6, *bytes);
        socks.push_back(std::move(s6));
      }
    }
    if (socks.empty()) co_return *replies;

    asio::steady_timer timer(io_);
    timer.expires_after(options_.timeout);
    timer.async_wait([socks](std::error_code e) {
      if (e) return;
      for (const auto& s : socks) s->close(e);
    });
    for (size_t i = 1; i < socks.size(); ++i) {
      asio::co_spawn(io_, Collect(socks[i], replies, &malformed_), asio::detached);
    }
    co_await Collect(socks[0], replies, &malformed_);
    timer.cancel();
    // The other sockets were closed by the same timer: let their last reads finish first.
    co_await asio::post(io_, use_awaitable);
    co_return *replies;
  }

  const RegistryOptions options_;
  const std::string domain_;
  const std::string hostname_;
  uint16_t port_ = 5353;
  std::vector<asio::ip::address_v4> interfaces_;  // IPv4 addresses of the interfaces used
  std::vector<unsigned> v6_interfaces_;           // indexes of the IPv6 interfaces used
  const bool use_v4_, use_v6_;                    // params mdns.ipv4 / mdns.ipv6

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  udp::socket listen_;   // IPv4 224.0.0.251
  udp::socket listen6_;  // IPv6 ff02::fb; closed when IPv6 is off or unavailable
  std::thread thread_;

  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::map<std::string, std::map<std::string, ZoneState>> services_;  // name -> node id
  std::map<std::string, ZoneState> wildcards_;                        // name -> `_services`
  std::vector<std::weak_ptr<plugin::WatchQueue>> watchers_;
  std::atomic<uint64_t> packets_{0}, malformed_{0}, answered_{0};
};

}  // namespace

Result<std::shared_ptr<Registry>> NewMdnsRegistry(RegistryOptions options) {
  auto r = std::make_shared<MdnsRegistry>(std::move(options));
  if (Status s = r->Open(); !s.ok()) return s;
  return std::shared_ptr<Registry>(std::move(r));
}

namespace mdns {
std::optional<Stats> GetStats(Registry& registry) {
  if (auto* m = dynamic_cast<MdnsRegistry*>(&registry)) return m->stats();
  return std::nullopt;
}
}  // namespace mdns

}  // namespace micro
