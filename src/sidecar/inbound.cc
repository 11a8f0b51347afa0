#include "sidecar/inbound.h"

#include <charconv>

#include "micro/errors.h"
#include "micro/sidecar.h"
#include "sidecar/registration.h"

namespace micro::sidecar_detail {
namespace {

std::string_view Header(const Message& m, std::string_view key) {
  return GetHeader(m.header, key).value_or(std::string_view());
}

bool IsJson(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return EqualsIgnoreCase(media, "application/json");
}

// Headers that describe the mucp request itself, not the call: not sent to the app.
bool IsTransportHeader(std::string_view name) {
  static constexpr std::string_view kSkip[] = {
      "Content-Length", "Connection",     "Host", "Transfer-Encoding",
      "Keep-Alive",     "Upgrade",        "Te",   "Trailer",
      "Expect",         "Accept-Encoding"};
  for (auto s : kSkip) {
    if (EqualsIgnoreCase(name, s)) return true;
  }
  return false;
}

Duration CallTimeout(const Message& call, Duration fallback) {
  std::string_view text = Header(call, "Timeout");  // nanoseconds, as mucp sends it
  uint64_t ns = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || ns == 0) {
    return fallback;
  }
  return std::min<Duration>(fallback, std::chrono::nanoseconds(ns));
}

std::string Endpoint(const Message& call) {
  std::string_view e = Header(call, "Micro-Endpoint");
  if (e.empty()) e = Header(call, "Micro-Method");
  return std::string(e);
}

}  // namespace

Result<http::Request> AppRequest(const Message& call) {
  const std::string id(sidecar::kErrorId);
  if (!Header(call, "Micro-Stream").empty()) {
    return errors::BadRequest(id,
                              "stream endpoints are not supported by the sidecar (the app "
                              "is called over HTTP, one request at a time)");
  }
  const std::string endpoint = Endpoint(call);
  const auto dot = endpoint.find('.');
  if (dot == std::string::npos || !IsIdentifier(std::string_view(endpoint).substr(0, dot)) ||
      !IsIdentifier(std::string_view(endpoint).substr(dot + 1))) {
    return errors::BadRequest(id, "endpoint \"{}\" is not Handler.Method", endpoint);
  }
  std::string_view content_type = Header(call, "Content-Type");
  if (!IsJson(content_type)) {
    return errors::New(
        id,
        "the app speaks JSON: call it with Content-Type application/json, not \"" +
            std::string(content_type.empty() ? "application/protobuf" : content_type) + "\"",
        415);
  }
  http::Request request{.method = "POST", .target = "/" + endpoint};
  for (const auto& [k, v] : call.header) {
    if (!IsTransportHeader(k)) request.header.Set(k, v);
  }
  request.header.Set("Content-Type", "application/json");
  request.body = call.body.empty() ? "{}" : call.body;
  return request;
}

Message ErrorMessage(const Message& call, const Error& error) {
  Message out;
  if (auto id = GetHeader(call.header, "Micro-Id")) out.header.Set("Micro-Id", std::string(*id));
  const std::string text = error.ToJson();
  out.header.Set("Micro-Error", text);
  out.header.Set("X-Micro-Error", text);
  return out;
}

Message AppReply(const Message& call, const http::Response& answer, std::string_view app_name) {
  if (answer.status < 200 || answer.status > 299) {
    // The app's own go-micro error when it sent one ({"id","code","detail",...}).
    Error error = Error::Parse(answer.body);
    if (error.code == 0 || (error.id.empty() && error.detail.empty())) {
      std::string body = answer.body.substr(0, 512);
      error = errors::New(std::string(app_name),
                          "the app answered " + std::to_string(answer.status) +
                              (body.empty() ? std::string() : ": " + body),
                          answer.status >= 400 && answer.status <= 599 ? answer.status : 500);
    }
    return ErrorMessage(call, error);
  }
  Message out;
  if (auto id = GetHeader(call.header, "Micro-Id")) out.header.Set("Micro-Id", std::string(*id));
  out.header.Set("Content-Type", "application/json");
  out.body = answer.body.empty() ? "{}" : answer.body;
  return out;
}

asio::awaitable<void> ServeInbound(std::shared_ptr<Socket> socket, const InboundOptions& options,
                                   http::Client& client) {
  for (;;) {
    Message call;
    if (Status s = co_await socket->Recv(call); !s) break;
    Message reply;
    auto request = AppRequest(call);
    const std::string address = options.app_address();
    if (!request) {
      reply = ErrorMessage(call, request.error());
    } else if (address.empty()) {
      reply = ErrorMessage(call, errors::New(std::string(sidecar::kErrorId),
                                             "the app has not told the sidecar its address", 503));
    } else {
      Context ctx = Context::WithTimeout(CallTimeout(call, options.app_timeout));
      auto answer = co_await client.Send(address, std::move(*request), ctx);
      if (!answer) {
        const Error e =
            errors::New(std::string(sidecar::kErrorId),
                        "the app at " + address + " did not answer: " + answer.error().detail,
                        answer.error().code == 408 ? 408 : 502);
        reply = ErrorMessage(call, e);
      } else {
        reply = AppReply(call, *answer, options.app_name);
      }
    }
    if (Status s = co_await socket->Send(reply); !s) break;
    if (EqualsIgnoreCase(GetHeader(call.header, "Connection").value_or(""), "close")) break;
  }
}

}  // namespace micro::sidecar_detail
