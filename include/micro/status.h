// micro::Status and micro::Result<T>: how every micro-cpp call reports failure.
//
// No exception crosses an RPC boundary: handlers return a Status, calls return a Result<T>
// holding either a value or a micro::Error.
//
//   micro::Result<Response> r = greeter.Hello(req);
//   if (!r) log(r.error());        // r.error() is a micro::Error
//   else use(r->msg());
//
// Threading: plain values, no shared state.
#pragma once

#include <micro/errors.h>

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace micro {

// Ok, or an Error. Default-constructed and `return {};` mean ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT(google-explicit-constructor): `return err;`

  static Status Ok() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  // Precondition: !ok().
  const Error& error() const& {
    assert(error_);
    return *error_;
  }
  Error&& error() && {
    assert(error_);
    return std::move(*error_);
  }

  friend bool operator==(const Status&, const Status&) = default;

 private:
  std::optional<Error> error_;
};

// A value of T, or an Error.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  // An empty result is a 500 "no result" error. It exists because asio's completion
  // machinery (co_spawn, use_future) default-constructs results.
  Result()
      : v_(std::in_place_index<1>, Error{"go.micro", 500, "no result", "Internal Server Error"}) {}
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT
  // A failed Status converts; an ok Status has no value to give and must not be used here.
  Result(Status s) : v_(std::in_place_index<1>, std::move(s).error()) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() requires(!std::is_pointer_v<T>) { return &value(); }
  const T* operator->() const requires(!std::is_pointer_v<T>) { return &value(); }
  // A result holding a pointer reaches through it: result->field is the pointee's field.
  T operator->() const requires std::is_pointer_v<T> { return value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // Precondition: !ok().
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  Status status() const { return ok() ? Status() : Status(error()); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

}  // namespace micro
