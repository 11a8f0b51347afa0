#include "conn.h"

#include <micro/logger.h>

#include <charconv>
#include <chrono>
#include <thread>

#include "micro/nats/nats.h"

namespace micro::nats_detail {
namespace {

thread_local bool in_callback = false;

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

void OnDisconnected(natsConnection* nc, void*) {
  // (Also called when we close the connection ourselves: then it is no news.)
  if (!natsConnection_IsClosed(nc)) log::Warn("nats: disconnected, reconnecting");
}

void OnReconnected(natsConnection* nc, void*) {
  char url[256] = {};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  log::Info("nats: reconnected to {}", url);
}

void OnAsyncError(natsConnection*, natsSubscription* sub, natsStatus err, void*) {
  // Slow consumers and similar: nats.c dropped messages for this subscription.
  log::Warn("nats: asynchronous error{}: {}", sub ? " on a subscription" : "",
            natsStatus_GetText(err));
}

}  // namespace

bool InNatsCallback() { return in_callback; }

std::shared_ptr<Runtime> OwnRuntime() {
  return std::shared_ptr<Runtime>(new Runtime(1), [](Runtime* r) {
    if (Runtime::InIoThread()) {
      std::thread([r] { delete r; }).detach();
    } else {
      delete r;
    }
  });
}

std::vector<std::string> NormalizeUrls(const std::vector<std::string>& addrs) {
  std::vector<std::string> urls;
  for (const auto& entry : addrs) {
    std::string_view rest = entry;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view one = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
      if (one.empty()) continue;
      if (one.find("://") == std::string_view::npos) {
        urls.push_back("nats://" + std::string(one));
      } else {
        urls.emplace_back(one);
      }
    }
  }
  if (urls.empty()) urls.emplace_back(nats::kDefaultUrl);
  return urls;
}

void ApplyParams(const std::map<std::string, std::string>& params, ConnOptions& options) {
  if (auto it = params.find("nats.reconnect_wait_ms"); it != params.end()) {
    int ms = 0;
    const auto& v = it->second;
    if (std::from_chars(v.data(), v.data() + v.size(), ms).ec == std::errc{} && ms > 0) {
      options.reconnect_wait = std::chrono::milliseconds(ms);
    }
  }
}

Error NatsError(std::string_view error_id, natsStatus status, std::string_view what) {
  const int code = status == NATS_NO_SERVER || status == NATS_NOT_YET_CONNECTED ||
                           status == NATS_CONNECTION_CLOSED ||
                           status == NATS_CONNECTION_DISCONNECTED
                       ? 503
                   : status == NATS_TIMEOUT ? 408
                                            : 500;
  return errors::New(std::string(error_id),
                     fmt::format("nats: {}: {}", what, natsStatus_GetText(status)), code);
}

// The closure nats.c holds for one subscription; it outlives the Subscription object until
// nats.c says the handler will not run again (OnComplete), then deletes itself.
struct Subscription::Box {
  MsgHandler handler;
  std::promise<void> done;

  static void OnMsg(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
    auto* box = static_cast<Box*>(closure);
    Msg msg;
    if (const char* s = natsMsg_GetSubject(m)) msg.subject = s;
    if (const char* r = natsMsg_GetReply(m)) msg.reply = r;
    if (const char* d = natsMsg_GetData(m)) {
      msg.data.assign(d, static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    }
    msg.no_responders = natsMsg_IsNoResponders(m);
    natsMsg_Destroy(m);
    in_callback = true;
    try {
      box->handler(std::move(msg));
    } catch (const std::exception& e) {
      log::Error("nats: subscription handler threw: {}", e.what());
    }
    in_callback = false;
  }

  static void OnComplete(void* closure) {
    auto* box = static_cast<Box*>(closure);
    box->done.set_value();
    delete box;
  }
};

void Subscription::Close() {
  if (!sub_) return;
  natsSubscription_Unsubscribe(sub_);  // fails harmlessly when the connection is closed
  // A handler may still be running: wait for it, unless we are that handler.
  if (!in_callback && done_.valid() &&
      done_.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    log::Error("nats: subscription on {} did not complete within 10 s", subject_);
  }
  natsSubscription_Destroy(sub_);
  sub_ = nullptr;
  conn_.reset();
}

Result<std::shared_ptr<Conn>> Conn::Connect(const ConnOptions& options, std::string_view error_id) {
  std::shared_ptr<Conn> c(new Conn());
  c->error_id_ = std::string(error_id);
  natsStatus s = natsOptions_Create(&c->opts_);
  if (s != NATS_OK) return NatsError(error_id, s, "options");
  std::vector<const char*> servers;
  for (const auto& u : options.urls) servers.push_back(u.c_str());
  s = natsOptions_SetServers(c->opts_, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(c->opts_, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(c->opts_, Millis(options.connect_timeout));
  // Reconnect forever, quickly; buffer publishes meanwhile (nats.c's default 8 MiB).
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(c->opts_, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->opts_, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(c->opts_, Millis(options.reconnect_wait));
  if (s == NATS_OK) s = natsOptions_SetReconnectJitter(c->opts_, 0, 0);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(c->opts_, OnDisconnected, nullptr);
  if (s == NATS_OK && options.send_asap) s = natsOptions_SetSendAsap(c->opts_, true);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(c->opts_, OnReconnected, nullptr);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(c->opts_, OnAsyncError, nullptr);
  if (s == NATS_OK && options.secure) {
    s = natsOptions_SetSecure(c->opts_, true);
    const TlsOptions& t = options.tls;
    if (s == NATS_OK && !t.ca_pem.empty()) {
      s = natsOptions_SetCATrustedCertificates(c->opts_, t.ca_pem.c_str());
    } else if (s == NATS_OK && !t.ca_file.empty()) {
      s = natsOptions_LoadCATrustedCertificates(c->opts_, t.ca_file.c_str());
    }
    if (s == NATS_OK && !t.cert_pem.empty()) {
      s = natsOptions_SetCertificatesChain(c->opts_, t.cert_pem.c_str(), t.key_pem.c_str());
    } else if (s == NATS_OK && !t.cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(c->opts_, t.cert_file.c_str(), t.key_file.c_str());
    }
    if (s == NATS_OK && t.insecure_skip_verify) {
      s = natsOptions_SkipServerVerification(c->opts_, true);
    }
  }
  if (s != NATS_OK) return NatsError(error_id, s, "options");
  s = natsConnection_Connect(&c->nc_, c->opts_);
  if (s != NATS_OK) {
    return errors::New(std::string(error_id),
                       fmt::format("nats: cannot connect to {}: {}", fmt::join(options.urls, ","),
                                   natsStatus_GetText(s)),
                       503);
  }
  return c;
}

Conn::~Conn() {
  if (nc_) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
  if (opts_) natsOptions_Destroy(opts_);
}

Status Conn::Publish(const std::string& subject, std::string_view data, const std::string& reply) {
  const natsStatus s =
      reply.empty()
          ? natsConnection_Publish(nc_, subject.c_str(), data.data(), static_cast<int>(data.size()))
          : natsConnection_PublishRequest(nc_, subject.c_str(), reply.c_str(), data.data(),
                                          static_cast<int>(data.size()));
  if (s != NATS_OK) return NatsError(error_id_, s, "publish to " + subject);
  return {};
}

Result<std::unique_ptr<Subscription>> Conn::Subscribe(const std::string& subject,
                                                      const std::string& queue,
                                                      MsgHandler handler) {
  auto* box = new Subscription::Box{std::move(handler), {}};
  std::unique_ptr<Subscription> sub(new Subscription());
  sub->done_ = box->done.get_future();
  sub->subject_ = subject;
  natsStatus s = queue.empty()
                     ? natsConnection_Subscribe(&sub->sub_, nc_, subject.c_str(),
                                                Subscription::Box::OnMsg, box)
                     : natsConnection_QueueSubscribe(&sub->sub_, nc_, subject.c_str(),
                                                     queue.c_str(), Subscription::Box::OnMsg, box);
  // Set before anything can unsubscribe (only our Close does).
  if (s == NATS_OK) {
    s = natsSubscription_SetOnCompleteCB(sub->sub_, Subscription::Box::OnComplete, box);
  }
  if (s != NATS_OK) {
    if (sub->sub_) {
      // The handler might still run once: leave the box to it (a leak on a failure path).
      natsSubscription_Unsubscribe(sub->sub_);
      natsSubscription_Destroy(sub->sub_);
      sub->sub_ = nullptr;
    } else {
      delete box;
    }
    return NatsError(error_id_, s, "subscribe to " + subject);
  }
  sub->conn_ = shared_from_this();
  return sub;
}

std::string Conn::NewInbox() {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return "_INBOX.micro";
  std::string s(inbox);
  natsInbox_Destroy(inbox);
  return s;
}

Status Conn::Flush(Duration timeout) {
  const natsStatus s = natsConnection_FlushTimeout(nc_, Millis(timeout));
  if (s != NATS_OK) return NatsError(error_id_, s, "flush");
  return {};
}

bool Conn::Connected() { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

Result<std::shared_ptr<Conn>> LazyConn::Get() {
  std::lock_guard lock(mu_);
  if (conn_) return conn_;
  auto c = Conn::Connect(options_, error_id_);
  if (!c) return c;
  conn_ = *c;
  return conn_;
}

}  // namespace micro::nats_detail
