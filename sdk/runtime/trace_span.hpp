// A span on a rank's timeline, recorded when it ends (trace/trace_sink.hpp).
// An inactive span (no sink, or a detail level the trace leaves out) costs
// nothing but its construction.
#pragma once

#include <string>
#include <utility>

#include "inca/time.hpp"
#include "protocol/host_driver.hpp"
#include "trace/trace_sink.hpp"

namespace inca::runtime {

class TraceSpan {
 public:
  TraceSpan() = default;
  TraceSpan(trace::TraceSink& sink, trace::Lane lane, const protocol::HostDriver& clock,
            std::string_view category, std::string name, trace::Args args)
      : sink_(&sink),
        lane_(lane),
        clock_(&clock),
        category_(category),
        name_(std::move(name)),
        args_(std::move(args)),
        begin_(clock.now()) {
    sink_->open(lane_);
  }
  TraceSpan(TraceSpan&& other) noexcept { *this = std::move(other); }
  TraceSpan& operator=(TraceSpan&& other) noexcept {
    end();
    sink_ = std::exchange(other.sink_, nullptr);
    lane_ = other.lane_;
    clock_ = other.clock_;
    category_ = other.category_;
    name_ = std::move(other.name_);
    args_ = std::move(other.args_);
    begin_ = other.begin_;
    return *this;
  }
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;
  ~TraceSpan() { end(); }

  explicit operator bool() const { return sink_ != nullptr; }
  /// Adds an argument known only later (an outcome).
  void add(std::string key, trace::ArgValue value) {
    if (sink_) args_.push_back({std::move(key), std::move(value)});
  }
  /// Records the span now (the destructor does it otherwise).
  void end() {
    if (!sink_) return;
    sink_->span(lane_, category_, name_, begin_, clock_->now(), args_);
    sink_ = nullptr;
  }

 private:
  trace::TraceSink* sink_ = nullptr;
  trace::Lane lane_;
  const protocol::HostDriver* clock_ = nullptr;
  std::string_view category_;
  std::string name_;
  trace::Args args_;
  Time begin_ = 0;
};

}  // namespace inca::runtime
