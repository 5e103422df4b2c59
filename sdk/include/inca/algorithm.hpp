// The all-reduce algorithm registry. Built-in algorithms and algorithms
// written outside the library register the same way, so `inca bench --algos
// NAME` and AllreduceOptions::algorithm treat them alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/status.hpp"

namespace inca {

class Communicator;

/// Elements [first, first + count) of an all-reduce's buffer: as `held`,
/// those of send that hold this rank's data (the others hold zeros, the
/// identity of the op, zero_is_identity()); as `kept`, those of recv this
/// rank keeps (the others are not written). The in-network all-reduce sends
/// the chunks wholly outside `held` as header-only identity contributions,
/// as SHARP's multicast from the data's owner uploads nothing from the
/// others, and is answered for the chunks wholly outside `kept` with the
/// result's header alone, as SHARP's reduce answers only the root. Every
/// other algorithm reads the zeros and may write all of recv.
struct ElementRange {
  std::size_t first = 0;
  std::size_t count = SIZE_MAX;  ///< SIZE_MAX: to the end of the buffer
  /// True when it leaves out none of `elements`.
  bool covers(std::size_t elements) const { return first == 0 && count >= elements; }
};

/// The arguments of one all-reduce, already validated by the communicator.
struct AllreduceArgs {
  const void* send = nullptr;
  void* recv = nullptr;
  std::size_t count = 0;
  Dtype dtype = Dtype::f32;
  ReduceOp op = ReduceOp::sum;
  bool reproducible = false;
  ElementRange held = {};
  ElementRange kept = {};
};

using AllreduceFn = std::function<Status(Communicator&, const AllreduceArgs&)>;

struct AllreduceAlgorithm {
  std::string name;
  std::string description;
  /// Needs the communicator's aggregation tree: its runs hold the tree, in
  /// the order collectives were started, so concurrent non-blocking ones
  /// take turns. Inside run, use the switch primitive innet_allreduce (and
  /// point-to-point); another collective on the same communicator would wait
  /// for the tree this run holds.
  bool uses_switches = false;
  AllreduceFn run;
  /// Collective set-up run by every rank before the algorithm's first
  /// attempt, in the caller's context (not inside a collective attempt), so
  /// it may itself run collectives such as split(). Optional; its error is
  /// the all-reduce's.
  std::function<Status(Communicator&)> prepare = nullptr;
};

/// Adds an algorithm; invalid_argument when the name is taken or empty.
Status register_allreduce(AllreduceAlgorithm algorithm);
/// The algorithm called `name`, or nullptr.
const AllreduceAlgorithm* find_allreduce(const std::string& name);
/// Names of every registered algorithm, built-ins first.
std::vector<std::string> allreduce_names();

}  // namespace inca
