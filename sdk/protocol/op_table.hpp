// Operation handles of one endpoint: ids, the outcome of finished operations
// until their owner collects them, and operations nobody will collect
// (detached: their outcome is dropped when they finish).
#pragma once

#include <cstdint>
#include <deque>

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>

#include "inca/status.hpp"

namespace inca::protocol {

using OpId = std::uint64_t;

class OpTable {
 public:
  OpId next() { return next_++; }
  void finish(OpId id, Status status) {
    if (detached_.erase(id) != 0) return;
    if (id < base_) {
      late_.insert_or_assign(id, std::move(status));
      return;
    }
    const OpId at = id - base_;
    if (at / 64 >= done_.size()) done_.resize(at / 64 + 1, 0);
    done_[at / 64] |= std::uint64_t{1} << (at % 64);
    if (!status.ok())
      failed_.insert_or_assign(id, std::move(status));
    else if (!failed_.empty())
      failed_.erase(id);
  }
  bool done(OpId id) const {
    if (id < base_) return late_.count(id) != 0;
    const OpId at = id - base_;
    return at / 64 < done_.size() && ((done_[at / 64] >> (at % 64)) & 1u) != 0;
  }
  /// The outcome of a finished operation; ok while pending or unknown.
  Status status(OpId id) const {
    if (id < base_) {
      auto it = late_.find(id);
      return it == late_.end() ? Status() : it->second;
    }
    if (failed_.empty() || !done(id)) return Status();
    auto it = failed_.find(id);
    return it == failed_.end() ? Status() : it->second;
  }
  void release(OpId id) {
    if (id < base_) {
      late_.erase(id);
      return;
    }
    const OpId at = id - base_;
    if (at / 64 >= done_.size()) return;
    done_[at / 64] &= ~(std::uint64_t{1} << (at % 64));
    if (!failed_.empty()) failed_.erase(id);
    // Words with nothing left to collect and no id still to hand out go.
    while (!done_.empty() && done_.front() == 0 && base_ + 64 <= next_) {
      done_.pop_front();
      base_ += 64;
    }
  }
  /// Nobody waits for `id`: forget it now if it finished, else when it does.
  void detach(OpId id) {
    if (done(id))
      release(id);
    else
      detached_.insert(id);
  }
  /// True for ids this table handed out.
  bool issued(OpId id) const { return id != 0 && id < next_; }

 private:
  OpId next_ = 1;
  // done() runs on every event that touches the rank, and operations nobody
  // collects (sends a collective posts and forgets) pile up: one bit per id
  // from base_ keeps that test one load, where a sorted table of outcomes
  // grew by a Status per forgotten send. Failures keep their Status aside.
  OpId base_ = 0;
  std::deque<std::uint64_t> done_;                   // bit (id - base_): finished, uncollected
  boost::container::flat_map<OpId, Status> failed_;  // finished with an error, uncollected
  // Operations that finished after their word was dropped (pending long).
  boost::container::flat_map<OpId, Status> late_;
  boost::container::flat_set<OpId> detached_;
};

}  // namespace inca::protocol
