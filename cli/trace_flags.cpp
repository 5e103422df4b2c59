#include "trace_flags.hpp"

#include <cmath>

#include <fmt/format.h>

#include "fault_flags.hpp"

namespace inca::cli {

void add_trace_flags(CLI::App& cmd, TraceFlags& f) {
  const char* group = "Timeline (docs/tracing.md)";
  cmd.add_option("--trace", f.file,
                 "Write a Chrome trace-event JSON timeline here (open it in ui.perfetto.dev or "
                 "chrome://tracing)")
      ->group(group);
  cmd.add_option("--trace-detail", f.detail,
                 "collectives (a span per collective) | steps (and its send, receive, reduce, "
                 "wait steps) | packets (and every packet on every link: short runs only)")
      ->capture_default_str()
      ->group(group);
  cmd.add_option("--trace-interval", f.interval,
                 "Sample period of the link and switch counters (default 5us on sim, 100us on "
                 "live)")
      ->group(group);
  cmd.add_option("--trace-max-mb", f.max_mb,
                 "The trace stops growing here and says so in a final event")
      ->capture_default_str()
      ->group(group);
}

Status apply_trace_flags(const TraceFlags& f, FabricOptions& fabric) {
  auto bad = [](std::string message) {
    return make_error(StatusCode::invalid_argument, std::move(message));
  };
  const bool any_option = f.detail != "steps" || !f.interval.empty() || f.max_mb != 256;
  if (f.file.empty()) {
    if (any_option) return bad("--trace-detail, --trace-interval and --trace-max-mb need --trace");
    return {};
  }
  TraceOptions& t = fabric.trace;
  t.file = f.file;
  auto detail = parse_trace_detail(f.detail);
  if (!detail)
    return bad(fmt::format("--trace-detail '{}': choose collectives, steps or packets", f.detail));
  t.detail = *detail;
  if (!f.interval.empty()) {
    auto interval = parse_time(f.interval);
    if (!interval || *interval <= 0)
      return bad(
          fmt::format("--trace-interval '{}' is not a positive time (e.g. 2us)", f.interval));
    t.interval = *interval;
  }
  if (!(f.max_mb >= 0.0625) || !std::isfinite(f.max_mb))
    return bad(fmt::format("--trace-max-mb {} must be at least 0.0625 (64 KiB)", f.max_mb));
  t.max_bytes = static_cast<std::uint64_t>(f.max_mb * (1 << 20));
  return {};
}

}  // namespace inca::cli
