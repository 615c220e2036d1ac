// result.hpp — Result<T, E>: a value or an error, returned by every fallible
// function in the core (STYLE.md: errors are values in the core).
//
// A small subset of C++23's std::expected. Accessing value() of an error, or
// error() of a value, is a programming error and aborts.
#pragma once

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace sotto {

template <class E>
struct Failure {
  E error;
};

// fail(e) builds the error side of any Result<_, E>.
template <class E>
Failure<std::decay_t<E>> fail(E&& e) {
  return Failure<std::decay_t<E>>{std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Failure<E> f) : v_(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check(true); return std::get<0>(v_); }
  const T& value() const& { check(true); return std::get<0>(v_); }
  T&& value() && { check(true); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { check(false); return std::get<1>(v_); }

 private:
  void check(bool want_value) const {
    if (ok() != want_value) std::abort();
  }
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(Failure<E> f) : err_(std::move(f.error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  void value() const {
    if (failed_) std::abort();
  }
  const E& error() const {
    if (!failed_) std::abort();
    return err_;
  }

 private:
  E err_{};
  bool failed_ = false;
};

}  // namespace sotto

// SOTTO_TRY(var, expr): evaluates expr (a Result); on error returns the error
// from the enclosing function, otherwise moves the value into `var`.
#define SOTTO_CONCAT_INNER(a, b) a##b
#define SOTTO_CONCAT(a, b) SOTTO_CONCAT_INNER(a, b)
#define SOTTO_TRY(var, expr)                                          \
  auto SOTTO_CONCAT(sotto_try_, __LINE__) = (expr);                   \
  if (!SOTTO_CONCAT(sotto_try_, __LINE__).ok())                       \
    return ::sotto::fail(SOTTO_CONCAT(sotto_try_, __LINE__).error()); \
  var = std::move(SOTTO_CONCAT(sotto_try_, __LINE__)).value()
#define SOTTO_TRY_VOID(expr)                                          \
  do {                                                                \
    auto sotto_try_v_ = (expr);                                       \
    if (!sotto_try_v_.ok()) return ::sotto::fail(sotto_try_v_.error()); \
  } while (0)
