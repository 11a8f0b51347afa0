#include "gateway.h"

#include <asio/co_spawn.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>

#include "micro/plugin/io.h"

namespace micro::etcd_detail {
namespace {

constexpr std::string_view kErrorId = error_ids::kRegistry;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string MessageOf(const Json& j, std::string_view raw) {
  if (j.is_object()) {
    for (const char* k : {"message", "error"}) {
      auto it = j.find(k);
      if (it != j.end() && it->is_string()) return it->get<std::string>();
      if (it != j.end() && it->is_object()) return MessageOf(*it, raw);
    }
  }
  return std::string(raw.substr(0, 200));
}

// etcd refuses a missing, stale or invalid token (gRPC Unauthenticated = HTTP 401; no token at
// all is "user name is empty").
bool IsAuthFailure(int status, const std::string& message) {
  return status == 401 || message.find("auth token") != std::string::npos ||
         message.find("user name is empty") != std::string::npos;
}

}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;  // data after padding
    const char* p = c ? std::strchr(kAlphabet, c) : nullptr;
    if (!p) return false;
    acc = (acc << 6) | uint32_t(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(char((acc >> bits) & 0xff));
    }
  }
  return pad <= 2 && (in.size() % 4 == 0);
}

int64_t Int(const Json& object, std::string_view key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  return 0;
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(prefix.back() + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

Gateway::Gateway(GatewayOptions options)
    : options_(std::move(options)),
      client_(http::ClientOptions{.secure = options_.secure,
                                  .tls = options_.tls,
                                  .connect_timeout = options_.timeout,
                                  .request_timeout = options_.timeout,
                                  .executor = options_.executor}) {}

std::size_t Gateway::current() {
  std::lock_guard lock(mu_);
  return current_;
}

http::Request Gateway::MakeRequest(std::string path, std::string body) {
  http::Request req{.method = "POST", .target = std::move(path), .body = std::move(body)};
  req.header.Set("Content-Type", "application/json");
  std::lock_guard lock(mu_);
  if (!token_.empty()) req.header.Set("Authorization", token_);
  return req;
}

asio::awaitable<Status> Gateway::Authenticate() {
  Json body = {{"name", options_.username}, {"password", options_.password}};
  const std::string text = body.dump();
  const std::size_t n = options_.endpoints.size();
  const std::size_t first = current();
  Error last = errors::InternalServerError(std::string(kErrorId), "etcd: no endpoints");
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (first + i) % n;
    http::Request req{.method = "POST", .target = "/v3/auth/authenticate", .body = text};
    req.header.Set("Content-Type", "application/json");
    Context ctx = Context::WithTimeout(options_.timeout);
    auto rsp = co_await client_.Send(options_.endpoints[idx], std::move(req), ctx);
    if (!rsp) {
      last = std::move(rsp).error();
      continue;
    }
    Json j = Json::parse(rsp->body, nullptr, false);
    if (rsp->status != 200 || !j.is_object() || !j.contains("token")) {
      co_return errors::New(std::string(kErrorId),
                            "etcd: authentication failed: " + MessageOf(j, rsp->body), 401);
    }
    std::lock_guard lock(mu_);
    token_ = j["token"].get<std::string>();
    current_ = idx;
    co_return Status{};
  }
  co_return last;
}

asio::awaitable<Result<Json>> Gateway::Post(std::string path, Json body) {
  const bool auth = !options_.username.empty();
  if (auth) {
    bool have_token;
    {
      std::lock_guard lock(mu_);
      have_token = !token_.empty();
    }
    if (!have_token) {
      if (Status st = co_await Authenticate(); !st) co_return std::move(st).error();
    }
  }
  const std::string text = body.dump();
  const std::size_t n = options_.endpoints.size();
  Error last = errors::InternalServerError(std::string(kErrorId), "etcd: no endpoints");
  for (int round = 0; round < 2; ++round) {
    bool reauth = false;
    const std::size_t first = current();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t idx = (first + i) % n;
      http::Request req = MakeRequest(path, text);
      Context ctx = Context::WithTimeout(options_.timeout);
      auto rsp = co_await client_.Send(options_.endpoints[idx], std::move(req), ctx);
      if (!rsp) {
        last = errors::InternalServerError(std::string(kErrorId), "etcd {}: {}",
                                           options_.endpoints[idx], rsp.error().detail);
        continue;  // the next endpoint
      }
      {
        std::lock_guard lock(mu_);
        current_ = idx;
      }
      Json j = Json::parse(rsp->body, nullptr, false);
      if (rsp->status == 200 && j.is_object()) co_return j;
      const std::string message = MessageOf(j, rsp->body);
      if (auth && round == 0 && IsAuthFailure(rsp->status, message)) {
        reauth = true;
        break;
      }
      co_return errors::InternalServerError(std::string(kErrorId), "etcd {} ({}): {}", path,
                                            rsp->status, message);
    }
    if (!reauth) break;
    if (Status st = co_await Authenticate(); !st) co_return std::move(st).error();
  }
  co_return last;
}

Result<Json> Gateway::PostSync(std::string path, Json body) {
  return plugin::RunBlocking(options_.executor, Post(std::move(path), std::move(body)), kErrorId);
}

asio::awaitable<Status> Gateway::Watch(Json create_request, Context ctx,
                                       std::function<bool(const Json& line)> on_line) {
  const std::string endpoint = options_.endpoints[current()];
  http::Request req = MakeRequest("/v3/watch", create_request.dump());
  std::string pending;
  bool stopped = false;
  std::function<bool(const http::Response&)> on_head = [](const http::Response& head) {
    return head.status == 200;
  };
  std::function<bool(std::string_view)> on_data = [&](std::string_view data) {
    pending.append(data);
    std::size_t start = 0;
    for (;;) {
      const auto nl = pending.find('\n', start);
      if (nl == std::string::npos) break;
      Json line = Json::parse(std::string_view(pending).substr(start, nl - start), nullptr, false);
      start = nl + 1;
      if (line.is_discarded()) continue;
      if (!on_line(line)) {
        stopped = true;
        return false;
      }
    }
    pending.erase(0, start);
    return true;
  };
  Status st = co_await client_.Stream(endpoint, std::move(req), std::move(ctx), std::move(on_head),
                                      std::move(on_data));
  (void)stopped;
  co_return st;
}

asio::awaitable<void> Gateway::Rotate() {
  {
    std::lock_guard lock(mu_);
    current_ = (current_ + 1) % options_.endpoints.size();
  }
  if (!options_.username.empty()) (void)co_await Authenticate();
}

}  // namespace micro::etcd_detail
