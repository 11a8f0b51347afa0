// micro::Error: go-micro's error type, byte-compatible on the wire.
//
// An Error travels between services as the JSON text of go-micro's errors.Error:
//   {"id":"go.micro.client","code":408,"detail":"call timeout","status":"Request Timeout"}
// with every empty field omitted. ToJson() produces exactly what Go's json.Marshal produces
// (including its HTML-safe escaping), and Parse() accepts anything a peer may send.
//
// Threading: plain values; safe to copy and share read-only across threads.
#pragma once

#include <fmt/format.h>
#include <micro/error_ids.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace micro {

struct Error {
  std::string id{};      // who raised it, e.g. "go.micro.client" or the service name
  int32_t code = 0;      // an HTTP status code; 0 when unknown (e.g. a parsed plain-text error)
  std::string detail{};  // human-readable text
  std::string status{};  // Go's http.StatusText(code), e.g. "Not Found"

  // The JSON form go-micro writes into the Micro-Error header (Go's json.Marshal output).
  std::string ToJson() const;

  // go-micro's errors.Parse: JSON when it is a JSON error object (keys matched
  // case-insensitively, as Go does), otherwise {detail = text, code = 0}. Never throws.
  static Error Parse(std::string_view text) noexcept;

  // All four fields equal. (go-micro's errors.Equal compares codes only: see SameCode.)
  friend bool operator==(const Error&, const Error&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const Error& e) { return os << e.ToJson(); }

// Go's http.StatusText: "" for codes Go does not know.
std::string_view StatusText(int code) noexcept;

namespace errors {

// New(id, detail, code): status filled from the code.
Error New(std::string id, std::string detail, int32_t code);

// go-micro's Equal: true when the codes match.
inline bool SameCode(const Error& a, const Error& b) { return a.code == b.code; }

// Constructors as go-micro's: a plain detail, or an fmt format string with arguments.
#define MICRO_ERROR_CONSTRUCTOR(Name, Code)                                                  \
  inline Error Name(std::string id, std::string detail) {                                    \
    return New(std::move(id), std::move(detail), Code);                                      \
  }                                                                                          \
  template <class A, class... Args>                                                          \
  Error Name(std::string id, fmt::format_string<A, Args...> format, A&& a, Args&&... args) { \
    return New(std::move(id),                                                                \
               fmt::format(format, std::forward<A>(a), std::forward<Args>(args)...), Code);  \
  }

MICRO_ERROR_CONSTRUCTOR(BadRequest, 400)
MICRO_ERROR_CONSTRUCTOR(Unauthorized, 401)
MICRO_ERROR_CONSTRUCTOR(Forbidden, 403)
MICRO_ERROR_CONSTRUCTOR(NotFound, 404)
MICRO_ERROR_CONSTRUCTOR(MethodNotAllowed, 405)
MICRO_ERROR_CONSTRUCTOR(Timeout, 408)
MICRO_ERROR_CONSTRUCTOR(Conflict, 409)
MICRO_ERROR_CONSTRUCTOR(InternalServerError, 500)

#undef MICRO_ERROR_CONSTRUCTOR

}  // namespace errors
}  // namespace micro

template <>
struct fmt::formatter<micro::Error> : fmt::formatter<std::string_view> {
  auto format(const micro::Error& e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(e.ToJson(), ctx);
  }
};
