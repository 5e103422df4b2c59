// Status codes returned across the public API. inca does not throw across the
// API boundary: every fallible call returns a Status (or a Result<T>) whose
// message says what was wrong and where.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace inca {

/// The taxonomy of failures, modelled on SHARP's error classes.
enum class StatusCode : int {
  ok = 0,
  invalid_argument,  ///< a caller passed something that can never work
  not_supported,     ///< valid request the chosen path cannot serve (e.g. band on f32)
  no_resource,       ///< the manager cannot allocate slots/trees for the request
  quota_exceeded,    ///< a tenant asked for more than its share
  no_tree,           ///< no aggregation tree spans the requested ranks
  lock_failed,       ///< a streaming-tree lock is busy; retryable
  lock_denied,       ///< a streaming lock the caller may never hold (no streaming tree)
  timeout,           ///< an operation did not complete within its deadline
  malformed_packet,  ///< a packet failed validation
  mismatch,          ///< ranks disagree on a collective's arguments
  config_error,      ///< a configuration file or knob is invalid
  io_error,          ///< an operating-system or device call failed
  internal,          ///< a broken invariant inside inca (a bug)
};

/// Short stable name of a status code ("no_resource"), for logs and JSON.
std::string_view to_string(StatusCode code);

/// A status code plus a human message. Cheap to return when ok.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "code: message", or "ok".
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

/// Convenience constructors.
inline Status make_error(StatusCode code, std::string message) {
  return Status(code, std::move(message));
}

/// A value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const T& operator*() const { return value(); }
  T& operator*() { return value(); }
  /// The failure; an ok Status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace inca

/// Propagates a non-ok Status from an expression to the caller.
#define INCA_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::inca::Status inca_status_ = (expr);        \
    if (!inca_status_.ok()) return inca_status_; \
  } while (0)
