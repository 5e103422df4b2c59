// One Chrome trace-event JSON file (the "JSON Object Format" that
// ui.perfetto.dev and chrome://tracing open), written as events come:
// {"otherData": {...}, "traceEvents": [ ... ]}. Worlds that name the same
// path share one file (open() hands out the same one while any holds it);
// it is completed when the last holder lets go.
//
// Layout: process 1 "ranks" (a thread per rank lane), 2 "switches" (counter
// tracks per switch, a thread per switch for its instants), 3 "host links"
// and 4 "switch links" (counter tracks per link direction, a thread per
// link for its packets and losses). Times are written in microseconds with
// nanosecond resolution, which Perfetto keeps exactly.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inca/status.hpp"
#include "inca/time.hpp"
#include "trace/trace_sink.hpp"

namespace inca::trace {

/// The trace's processes (Chrome "pid"s).
enum class Track : std::uint32_t { ranks = 1, switches = 2, host_links = 3, switch_links = 4 };

/// A counter sample's values, each one counter track (named "<name> <key>").
using CounterValues = std::vector<std::pair<std::string_view, double>>;

class ChromeTraceFile {
 public:
  /// The file at `path`, shared with whoever has it open already; io_error
  /// when it cannot be created. `clock` says what the times are ("virtual
  /// time" or "wall clock") in the file's otherData.
  static Result<std::shared_ptr<ChromeTraceFile>> open(const std::string& path,
                                                       std::uint64_t max_bytes,
                                                       std::string_view clock);
  ~ChromeTraceFile();
  ChromeTraceFile(const ChromeTraceFile&) = delete;
  ChromeTraceFile& operator=(const ChromeTraceFile&) = delete;

  /// Names thread `tid` of `track` (once; later calls are ignored).
  void name_thread(Track track, std::uint32_t tid, std::string_view name);
  /// A slice [begin, end) on thread `tid` of `track`.
  void slice(Track track, std::uint32_t tid, std::string_view category, std::string_view name,
             Time begin, Time end, const Args& args);
  /// An instant on thread `tid` of `track`, or on the whole trace (global).
  void instant(Track track, std::uint32_t tid, std::string_view name, Time at, const Args& args);
  void global_instant(std::string_view name, Time at, const Args& args);
  /// One sample of the counters named `name` in `track`'s process.
  void counter(Track track, std::string_view name, Time at, const CounterValues& values);

  /// The latest time any event reached (slices: their end).
  Time end() const;
  /// Bytes written so far, and whether the size limit cut the trace short.
  std::uint64_t bytes() const;
  bool truncated() const;
  const std::string& path() const { return path_; }

 private:
  ChromeTraceFile(std::string path, std::FILE* file, std::uint64_t max_bytes);
  void write(std::string_view event, Time last);  // with mutex_ held
  void name_process(Track track);                 // with mutex_ held

  const std::string path_;
  std::FILE* file_;
  const std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::uint64_t bytes_ = 0;
  std::uint64_t events_ = 0;
  bool truncated_ = false;
  Time end_ = 0;
  std::set<std::uint32_t> named_processes_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> named_threads_;
};

/// A time in picoseconds as a trace timestamp: microseconds, 3 decimals.
std::string trace_timestamp(Time t);

}  // namespace inca::trace
