// Operation handles of one endpoint: ids, the outcome of finished operations
// until their owner collects them, and operations nobody will collect
// (detached: their outcome is dropped when they finish).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
    const std::size_t word = dropped_ + (id - base_) / 64;
    if (word >= done_.size()) done_.resize(word + 1, 0);
    done_[word] |= std::uint64_t{1} << ((id - base_) % 64);
    if (!status.ok())
      failed_.insert_or_assign(id, std::move(status));
    else if (!failed_.empty())
      failed_.erase(id);
  }
  bool done(OpId id) const {
    if (id < base_) return late_.count(id) != 0;
    const std::size_t word = dropped_ + (id - base_) / 64;
    return word < done_.size() && ((done_[word] >> ((id - base_) % 64)) & 1u) != 0;
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
    const std::size_t word = dropped_ + (id - base_) / 64;
    if (word >= done_.size()) return;
    done_[word] &= ~(std::uint64_t{1} << ((id - base_) % 64));
    if (!failed_.empty()) failed_.erase(id);
    // Words with nothing left to collect and no id still to hand out go,
    // and their room is taken back once they are half the vector.
    while (dropped_ < done_.size() && done_[dropped_] == 0 && base_ + 64 <= next_) {
      ++dropped_;
      base_ += 64;
    }
    if (dropped_ >= 64 && 2 * dropped_ >= done_.size()) {
      done_.erase(done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(dropped_));
      dropped_ = 0;
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
  // A vector whose first dropped_ words are gone: with a std::deque, done(),
  // finish() and release() were 6.6 % of a simulated ring's instructions.
  OpId base_ = 0;
  std::size_t dropped_ = 0;
  std::vector<std::uint64_t> done_;  // bit (id - base_) of word dropped_ on: finished, uncollected
  boost::container::flat_map<OpId, Status> failed_;  // finished with an error, uncollected
  // Operations that finished after their word was dropped (pending long).
  boost::container::flat_map<OpId, Status> late_;
  boost::container::flat_set<OpId> detached_;
};

}  // namespace inca::protocol
