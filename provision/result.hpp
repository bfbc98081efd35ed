#pragma once

// Expected failures are values: every fallible function returns Result<T>. One place (the
// top of main) turns an Error into an exit code; exceptions only abort.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace labctl {

enum class ErrorKind {
  failure,  // an operation failed (exit code 1)
  usage,    // bad command-line usage (exit code 2)
  lab,      // bad lab file (exit code 2)
};

// What a failure means to the code that decides what to do next (retry it, treat it as
// already done, report a conflict). Set by the backend that knows, from its own error codes
// (libvirt's virErrorNumber, PowerShell's ErrorCategory), so the core never reads the text.
enum class ErrorCause {
  other,        // nothing the caller acts on
  transient,    // worth another try: a lock held, a timeout, a busy resource, a dropped link
  unsupported,  // the backend or its driver cannot do this
  not_found,    // the object asked for does not exist
  conflict,     // the object exists already, or its state forbids the call
};

// Where in a lab file an error is, for machine-readable output (`--json`).
struct ErrorSite {
  std::string file;
  int line = 0;  // 1-based; 0 when the error is about the file as a whole
  int column = 0;
  std::string key;  // dotted key path; "" at the top level
};

struct Error {
  ErrorKind kind = ErrorKind::failure;
  std::string message;            // one line; for lab errors "FILE:LINE:COL: key.path: what"
  std::optional<ErrorSite> site;  // lab errors: the same place as fields
  ErrorCause cause = ErrorCause::other;

  static Error failure(std::string m, ErrorCause cause = ErrorCause::other) {
    return {ErrorKind::failure, std::move(m), std::nullopt, cause};
  }
  static Error usage(std::string m) { return {ErrorKind::usage, std::move(m)}; }
  static Error lab(std::string m) { return {ErrorKind::lab, std::move(m)}; }
  int exit_code() const { return kind == ErrorKind::failure ? 1 : 2; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(m_v); }
  const T& value() const& { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(m_v); }

 private:
  std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : m_error(std::move(error)), m_ok(false) {}  // NOLINT

  bool ok() const { return m_ok; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return m_error; }

 private:
  Error m_error;
  bool m_ok = true;
};

using Status = Result<void>;

}  // namespace labctl
