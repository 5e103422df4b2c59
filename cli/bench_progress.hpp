// Progress of a long `inca bench` on a terminal: after the first 2 s of
// wall time, one line on stderr, rewritten in place, with the rows done, the
// simulator's event rate and an estimate of the time left. Quiet when stderr
// is not a terminal (logs, pipes, CI), so reports stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "inca/time.hpp"

namespace inca::cli {

/// What one progress line says.
struct ProgressState {
  std::size_t rows_done = 0;
  std::size_t rows_total = 0;
  std::string row;             ///< the row running, e.g. "innet 16 MiB"
  std::uint64_t events = 0;    ///< simulator events so far, all rows
  double elapsed_seconds = 0;  ///< wall time since the sweep started
  double fraction_done = 0;    ///< 0..1 of the sweep's estimated work
};

/// "rows 3/8 (innet 16 MiB), 12.6 M events, 1.40 M events/s, 9 s elapsed,
/// ETA 41 s": the events/s is over the whole sweep; no ETA before any work
/// is done.
std::string format_progress(const ProgressState& state);

/// Drives the line. `terminal` says whether `out` is a terminal (the command
/// passes isatty(stderr)); when false nothing is ever written. `clock`
/// returns wall seconds since the start (tests pass a fake one).
class ProgressMeter {
 public:
  ProgressMeter(std::ostream& out, bool terminal, std::function<double()> clock = {});

  /// The sweep ahead: its rows, and the sum of their weights (a row's share
  /// of the sweep's work).
  void plan(std::size_t rows, double total_weight);
  /// A row starts on a world whose event counter and virtual clock read
  /// `events` and `now`: its label, weight, and the virtual time the cost
  /// model expects it to take (0: unknown).
  void row_started(std::string label, double weight, Time expected, std::uint64_t events, Time now);
  /// The world's event counter and clock, while the row runs.
  void events(std::uint64_t events, Time now);
  /// The row finished with the world's event counter at `events`.
  void row_finished(std::uint64_t events);
  /// Clears the line, if one was written.
  void finish();

  /// What the next line would say.
  ProgressState state() const { return state_; }

 private:
  void maybe_print();

  std::ostream& out_;
  bool terminal_;
  std::function<double()> clock_;
  ProgressState state_;
  double total_weight_ = 0, done_weight_ = 0, row_weight_ = 0;
  Time row_expected_ = 0, row_start_time_ = 0;
  std::uint64_t events_before_row_ = 0, row_start_events_ = 0;
  double last_print_ = -1;
  bool printed_ = false;
};

}  // namespace inca::cli
