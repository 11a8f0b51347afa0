#include "micro/errors.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "micro/metadata.h"
#include "util/json_text.h"

namespace micro {
namespace {
constexpr int kMaxParseDepth = 100;
}  // namespace

std::string_view StatusText(int code) noexcept {
  // Go's net/http StatusText, verbatim.
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Entity";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

std::string Error::ToJson() const {
  // Field order and omitempty exactly as Go's errors.Error struct tags.
  std::string out = "{";
  bool first = true;
  auto field = [&](std::string_view name) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
  };
  if (!id.empty()) {
    field("id");
    util::AppendGoJsonString(out, id);
  }
  if (code != 0) {
    field("code");
    out += std::to_string(code);
  }
  if (!detail.empty()) {
    field("detail");
    util::AppendGoJsonString(out, detail);
  }
  if (!status.empty()) {
    field("status");
    util::AppendGoJsonString(out, status);
  }
  out += '}';
  return out;
}

namespace {

// Decodes a JSON error object as Go's json.Unmarshal into errors.Error would; false when Go
// would report an error.
bool DecodeErrorObject(const nlohmann::json& doc, Error& e) {
  if (doc.is_null()) return true;  // Go: unmarshalling null leaves the struct empty
  if (!doc.is_object()) return false;
  for (const auto& [key, value] : doc.items()) {
    std::string* text = nullptr;
    if (EqualsIgnoreCase(key, "id")) {
      text = &e.id;
    } else if (EqualsIgnoreCase(key, "detail")) {
      text = &e.detail;
    } else if (EqualsIgnoreCase(key, "status")) {
      text = &e.status;
    } else if (EqualsIgnoreCase(key, "code")) {
      if (value.is_null()) continue;
      if (value.is_number_unsigned()) {
        const auto v = value.get<uint64_t>();
        if (v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
        e.code = static_cast<int32_t>(v);
      } else if (value.is_number_integer()) {
        const auto v = value.get<int64_t>();
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          return false;
        }
        e.code = static_cast<int32_t>(v);
      } else {
        return false;
      }
      continue;
    } else {
      continue;  // unknown keys are ignored, as in Go
    }
    if (value.is_null()) continue;
    if (!value.is_string()) return false;
    *text = value.get<std::string>();
  }
  return true;
}

}  // namespace

Error Error::Parse(std::string_view text) noexcept {
  try {
    if (util::JsonNestingDepth(text, kMaxParseDepth) <= kMaxParseDepth) {
      const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      Error e;
      if (!doc.is_discarded() && DecodeErrorObject(doc, e)) return e;
    }
    Error e;
    e.detail = std::string(text);
    return e;
  } catch (...) {  // only std::bad_alloc can get here
    return Error{};
  }
}

namespace errors {

Error New(std::string id, std::string detail, int32_t code) {
  Error e;
  e.id = std::move(id);
  e.code = code;
  e.detail = std::move(detail);
  e.status = std::string(StatusText(code));
  return e;
}

}  // namespace errors
}  // namespace micro
