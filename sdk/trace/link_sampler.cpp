#include "trace/link_sampler.hpp"

#include <algorithm>

namespace inca::trace {

LinkSampler::Interval& LinkSampler::at(std::int64_t index) {
  // After a final flush a later run may touch an interval already written:
  // it counts in the first one still open.
  index = std::max(index, first_);
  if (open_.empty()) first_ = index;
  while (first_ + static_cast<std::int64_t>(open_.size()) <= index) open_.emplace_back();
  return open_[static_cast<std::size_t>(index - first_)];
}

void LinkSampler::retire(Time t) {
  while (!arrivals_.empty() && arrivals_.top().first <= t) {
    in_flight_ -= arrivals_.top().second;
    arrivals_.pop();
  }
}

void LinkSampler::write(std::int64_t index, const Interval& i, const Emit& emit) {
  const bool zero = i.busy == 0 && i.peak == 0 && i.tx_bytes == 0;
  if (zero && last_was_zero_) return;
  last_was_zero_ = zero;
  last_written_ = index;
  emit(Sample{index * interval_, static_cast<double>(i.busy) / static_cast<double>(interval_),
              i.peak, i.tx_bytes});
}

void LinkSampler::flush(Time now, const Emit& emit) {
  while (!open_.empty() && (now == kNever || (first_ + 1) * interval_ <= now)) {
    Interval i = open_.front();
    // What was still on the link when the interval began counts too.
    retire(first_ * interval_);
    i.peak = std::max(i.peak, in_flight_);
    write(first_, i, emit);
    open_.pop_front();
    ++first_;
  }
  if (now == kNever && !last_was_zero_) {
    retire(kNever);
    write(last_written_ + 1, Interval{}, emit);
    first_ = std::max(first_, last_written_ + 1);
  }
}

void LinkSampler::send(Time now, Time begin, Time end, Time arrival, std::uint64_t bytes,
                       const Emit& emit) {
  flush(now, emit);
  retire(now);
  in_flight_ += bytes;
  arrivals_.push({arrival, bytes});
  Interval& here = at(now / interval_);
  here.peak = std::max(here.peak, in_flight_);
  at(begin / interval_).tx_bytes += bytes;
  for (std::int64_t i = begin / interval_; i * interval_ < end; ++i) {
    const Time from = std::max(begin, i * interval_);
    const Time until = std::min(end, (i + 1) * interval_);
    at(i).busy += until - from;
  }
}

}  // namespace inca::trace
