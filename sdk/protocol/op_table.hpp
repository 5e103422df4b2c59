// Operation handles of one endpoint: ids, the outcome of finished operations
// until their owner collects them, and operations nobody will collect
// (detached: their outcome is dropped when they finish).
#pragma once

#include <cstdint>

#include <boost/container/flat_map.hpp>
#include <boost/container/flat_set.hpp>

#include "inca/status.hpp"

namespace inca::protocol {

using OpId = std::uint64_t;

class OpTable {
 public:
  OpId next() { return next_++; }
  void finish(OpId id, Status status) {
    if (detached_.erase(id) == 0) finished_.insert_or_assign(id, std::move(status));
  }
  bool done(OpId id) const { return finished_.count(id) != 0; }
  /// The outcome of a finished operation; ok while pending or unknown.
  Status status(OpId id) const {
    auto it = finished_.find(id);
    return it == finished_.end() ? Status() : it->second;
  }
  void release(OpId id) { finished_.erase(id); }
  /// Nobody waits for `id`: forget it now if it finished, else when it does.
  void detach(OpId id) {
    if (finished_.erase(id) == 0) detached_.insert(id);
  }
  /// True for ids this table handed out.
  bool issued(OpId id) const { return id != 0 && id < next_; }

 private:
  OpId next_ = 1;
  // Sorted vectors: the finished-but-uncollected operations are a handful,
  // ids only grow (inserts land at the end), and done() runs on every event
  // that touches the rank, where a hash lookup's cache miss showed up.
  boost::container::flat_map<OpId, Status> finished_;
  boost::container::flat_set<OpId> detached_;
};

}  // namespace inca::protocol
