#include "bench_progress.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace inca::cli {
namespace {

// The first line appears after this much wall time; later lines at most
// this often.
constexpr double kQuietSeconds = 2.0;
constexpr double kRefreshSeconds = 0.5;

std::string seconds(double s) {
  if (s < 120) return fmt::format("{:.0f} s", s);
  if (s < 7200) return fmt::format("{:.0f} min {:02.0f} s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.1f} h", s / 3600);
}

std::string millions(double n) {
  return n >= 1e6 ? fmt::format("{:.2f} M", n / 1e6) : fmt::format("{:.0f}", n);
}

}  // namespace

std::string format_progress(const ProgressState& s) {
  std::string line = fmt::format("rows {}/{}", s.rows_done, s.rows_total);
  if (!s.row.empty()) line += fmt::format(" ({})", s.row);
  line += fmt::format(", {} events", millions(static_cast<double>(s.events)));
  if (s.elapsed_seconds > 0)
    line +=
        fmt::format(", {} events/s", millions(static_cast<double>(s.events) / s.elapsed_seconds));
  line += fmt::format(", {} elapsed", seconds(s.elapsed_seconds));
  if (s.fraction_done > 0 && s.fraction_done < 1)
    line += ", ETA " + seconds(s.elapsed_seconds * (1 - s.fraction_done) / s.fraction_done);
  return line;
}

ProgressMeter::ProgressMeter(std::ostream& out, bool terminal, std::function<double()> clock)
    : out_(out), terminal_(terminal), clock_(std::move(clock)) {
  if (!clock_) {
    const auto start = std::chrono::steady_clock::now();
    clock_ = [start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
  }
}

void ProgressMeter::plan(std::size_t rows, double total_weight) {
  state_.rows_total = rows;
  total_weight_ = total_weight;
}

void ProgressMeter::row_started(std::string label, double weight, Time expected,
                                std::uint64_t events, Time now) {
  state_.row = std::move(label);
  row_weight_ = weight;
  row_expected_ = expected;
  row_start_events_ = events;
  row_start_time_ = now;
  events_before_row_ = state_.events;
  maybe_print();
}

void ProgressMeter::events(std::uint64_t events, Time now) {
  state_.events = events_before_row_ + (events - row_start_events_);
  // Within a row, the share of its expected virtual time that has passed.
  const double within =
      row_expected_ > 0 ? std::min(0.99, static_cast<double>(now - row_start_time_) / row_expected_)
                        : 0.0;
  if (total_weight_ > 0)
    state_.fraction_done = (done_weight_ + within * row_weight_) / total_weight_;
  maybe_print();
}

void ProgressMeter::row_finished(std::uint64_t events) {
  state_.events = events_before_row_ + (events - row_start_events_);
  ++state_.rows_done;
  done_weight_ += row_weight_;
  if (total_weight_ > 0) state_.fraction_done = done_weight_ / total_weight_;
  maybe_print();
}

void ProgressMeter::maybe_print() {
  state_.elapsed_seconds = clock_();
  if (!terminal_ || state_.elapsed_seconds < kQuietSeconds) return;
  if (last_print_ >= 0 && state_.elapsed_seconds - last_print_ < kRefreshSeconds) return;
  last_print_ = state_.elapsed_seconds;
  // \r and erase-to-end-of-line rewrite the one line in place.
  out_ << "\r\033[K" << format_progress(state_) << std::flush;
  printed_ = true;
}

void ProgressMeter::finish() {
  if (printed_) out_ << "\r\033[K" << std::flush;
  printed_ = false;
}

}  // namespace inca::cli
