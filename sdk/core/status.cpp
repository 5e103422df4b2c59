#include "inca/status.hpp"

namespace inca {

std::string_view to_string(StatusCode code) {
  switch (code) {
    case StatusCode::ok:
      return "ok";
    case StatusCode::invalid_argument:
      return "invalid_argument";
    case StatusCode::not_supported:
      return "not_supported";
    case StatusCode::no_resource:
      return "no_resource";
    case StatusCode::quota_exceeded:
      return "quota_exceeded";
    case StatusCode::no_tree:
      return "no_tree";
    case StatusCode::lock_failed:
      return "lock_failed";
    case StatusCode::lock_denied:
      return "lock_denied";
    case StatusCode::timeout:
      return "timeout";
    case StatusCode::malformed_packet:
      return "malformed_packet";
    case StatusCode::mismatch:
      return "mismatch";
    case StatusCode::config_error:
      return "config_error";
    case StatusCode::io_error:
      return "io_error";
    case StatusCode::internal:
      return "internal";
  }
  return "unknown_status";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string out(inca::to_string(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace inca
