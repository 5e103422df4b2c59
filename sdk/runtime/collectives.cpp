// Reduce, broadcast, barrier, reduce-scatter and all-gather on a
// Communicator: argument checks, the choice between the in-network version
// and the host algorithm, and one collective attempt around the algorithm so
// that its point-to-point tags are private and a timed-out attempt is re-run
// (collective_recovery.cpp).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "algorithms/binomial_broadcast.hpp"
#include "algorithms/binomial_reduce.hpp"
#include "algorithms/bruck_allgather.hpp"
#include "algorithms/dissemination_barrier.hpp"
#include "algorithms/innet_collectives.hpp"
#include "algorithms/loc_allreduce.hpp"
#include "algorithms/ring_allgather.hpp"
#include "algorithms/ring_reduce_scatter.hpp"
#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "runtime/trace_span.hpp"

namespace inca {
namespace {

// Each check names the collective and the rank, so that a failure in a
// 64-rank run points at its cause.
Status check_dtype(Collective c, int rank, Dtype dtype) {
  if (dtype_size(dtype) == 0)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} on rank {}: unknown dtype code {}", to_string(c), rank,
                                  static_cast<int>(dtype)));
  return {};
}

Status check_count(Collective c, int rank, std::size_t count, Dtype dtype, std::size_t blocks) {
  if (count > SIZE_MAX / dtype_size(dtype) / blocks)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} on rank {}: {} x {} elements of {} overflow the address "
                                  "space",
                                  to_string(c), rank, blocks, count, to_string(dtype)));
  return {};
}

Status check_root(Collective c, int rank, int root, int size) {
  if (root < 0 || root >= size)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("{} on rank {}: root {} outside 0..{}", to_string(c), rank, root, size - 1));
  return {};
}

Status check_buffer(Collective c, int rank, const void* buffer, const char* which,
                    std::size_t count) {
  if (count > 0 && buffer == nullptr)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("{} on rank {}: null {} buffer with count {}", to_string(c), rank,
                                  which, count));
  return {};
}

}  // namespace

Status Communicator::run_other_collective(Collective collective, const CollectiveOptions& options,
                                          std::size_t bytes, std::size_t elem_size, Dtype dtype,
                                          ReduceOp op,
                                          const std::function<Status(std::string_view)>& body) {
  CollectiveState& st = state();
  st.last_note.clear();
  refresh_tree();  // a failure may have re-formed it since the last collective
  const std::span<const std::string_view> hosts = host_algorithms(collective);
  std::string host(hosts.front());
  const std::string& asked = options.algorithm;
  // What the switches reduce: the data itself, or bytes with bor (the
  // in-network broadcast, barrier and all-gather).
  const bool reduces = collective == Collective::reduce || collective == Collective::reduce_scatter;
  const Status switch_pair =
      check_caps(to_string(collective), reduces ? dtype : Dtype::u8, reduces ? op : ReduceOp::bor);
  bool innet = false;
  if (asked == "innet") {
    if (size_ > 1 && !innet_available())
      return make_error(StatusCode::not_supported,
                        fmt::format("{} on rank {}: in-network unavailable: {}",
                                    to_string(collective), rank_, innet_status_.to_string()));
    INCA_RETURN_IF_ERROR(switch_pair);
    INCA_RETURN_IF_ERROR(streaming_lock(bytes));
    innet = true;
  } else if (asked == "auto") {
    auto modelled = [&](const std::string& algorithm) {
      return this->modelled(collective, algorithm, bytes, elem_size);
    };
    // The fastest host algorithm by the model is the one to beat (or to fall back on).
    if (size_ > 1 && model_) {
      std::optional<Time> best;
      for (std::string_view name : hosts) {
        const auto t = modelled(std::string(name));
        if (t && (!best || *t < *best)) best = t, host = std::string(name);
      }
    }
    if (size_ > 1 && !innet_available()) {
      st.last_note = "in-network unavailable (" + innet_status_.to_string() + "); chose " + host;
    } else if (!switch_pair.ok()) {
      st.last_note = switch_pair.message() + "; chose " + host;
    } else if (Status lock = streaming_lock(bytes); size_ > 1 && !lock.ok()) {
      st.last_note = fmt::format("{} B needs the streaming lock ({}); chose {}", bytes,
                                 lock.to_string(), host);
    } else if (size_ > 1 && model_) {
      const auto t_innet = modelled("innet");
      const auto t_host = modelled(host);
      innet = t_innet && (!t_host || *t_innet <= *t_host);
    } else {
      // Without a model, in-network whenever a tree exists (as for allreduce).
      innet = size_ > 1;
    }
  } else if (std::find(hosts.begin(), hosts.end(), asked) != hosts.end()) {
    host = asked;
  } else {
    return make_error(StatusCode::invalid_argument,
                      fmt::format("unknown {} algorithm '{}' (choose auto, innet or {})",
                                  to_string(collective), asked, fmt::join(hosts, ", ")));
  }
  st.last_algorithm = innet ? "innet" : host;

  // Re-runs after a timeout go through the same body; if the tree is gone by
  // then, the host algorithm takes over.
  AllreduceAlgorithm attempt;
  attempt.name = st.last_algorithm;
  attempt.run = [&](Communicator& comm, const AllreduceArgs&) {
    const bool use_switches = innet && (comm.size() == 1 || comm.innet_available());
    return body(use_switches ? "innet" : host);
  };
  AllreduceArgs args;
  args.count = bytes / elem_size;
  args.dtype = dtype;
  args.op = op;
  args.reproducible = options.reproducible;
  runtime::TraceSpan span =
      trace_collective(to_string(collective), st.last_algorithm, bytes, dtype, op);
  // The in-network versions hold the tree like any switch user; their
  // recovery stays the body's own (re-run in place, not the ring fallback
  // that uses_switches would select), so the attempt does not claim it.
  Status s = run_collective(attempt, args, /*may_rerun=*/true, /*holds_tree=*/innet);
  if (!s.ok()) span.add("status", s.to_string());
  return s;
}

Status Communicator::reduce(const void* send, void* recv, std::size_t count, Dtype dtype,
                            ReduceOp op, int root, const CollectiveOptions& options) {
  const Collective c = Collective::reduce;
  INCA_RETURN_IF_ERROR(check_op(op, dtype));
  INCA_RETURN_IF_ERROR(check_count(c, rank(), count, dtype, 1));
  INCA_RETURN_IF_ERROR(check_root(c, rank(), root, size()));
  if (!timing_only_) {
    INCA_RETURN_IF_ERROR(check_buffer(c, rank(), send, "send", count));
    if (rank() == root) INCA_RETURN_IF_ERROR(check_buffer(c, rank(), recv, "receive", count));
  }
  const std::size_t esize = dtype_size(dtype);
  return run_other_collective(
      c, options, count * esize, esize, dtype, op, [&](std::string_view algorithm) {
        return algorithm == "innet"
                   ? algorithms::innet_reduce(*this, send, recv, count, dtype, op, root,
                                              options.reproducible)
                   : algorithms::binomial_reduce(*this, send, recv, count, dtype, op, root);
      });
}

Status Communicator::broadcast(void* buf, std::size_t count, Dtype dtype, int root,
                               const CollectiveOptions& options) {
  const Collective c = Collective::broadcast;
  INCA_RETURN_IF_ERROR(check_dtype(c, rank(), dtype));
  INCA_RETURN_IF_ERROR(check_count(c, rank(), count, dtype, 1));
  INCA_RETURN_IF_ERROR(check_root(c, rank(), root, size()));
  if (!timing_only_) INCA_RETURN_IF_ERROR(check_buffer(c, rank(), buf, "data", count));
  const std::size_t bytes = count * dtype_size(dtype);
  // The in-network broadcast reduces bytes with bor, whatever the dtype.
  return run_other_collective(
      c, options, bytes, dtype_size(dtype), dtype, ReduceOp::bor, [&](std::string_view algorithm) {
        return algorithm == "innet" ? algorithms::innet_broadcast(*this, buf, bytes, root)
                                    : algorithms::binomial_broadcast(*this, buf, bytes, root);
      });
}

Status Communicator::barrier(const CollectiveOptions& options) {
  return run_other_collective(Collective::barrier, options, 1, 1, Dtype::u8, ReduceOp::bor,
                              [&](std::string_view algorithm) {
                                return algorithm == "innet"
                                           ? algorithms::innet_barrier(*this)
                                           : algorithms::dissemination_barrier(*this);
                              });
}

Status Communicator::reduce_scatter(const void* send, void* recv, std::size_t recvcount,
                                    Dtype dtype, ReduceOp op, const CollectiveOptions& options) {
  const Collective c = Collective::reduce_scatter;
  INCA_RETURN_IF_ERROR(check_op(op, dtype));
  INCA_RETURN_IF_ERROR(check_count(c, rank(), recvcount, dtype, size_));
  if (!timing_only_) {
    INCA_RETURN_IF_ERROR(check_buffer(c, rank(), send, "send", recvcount));
    INCA_RETURN_IF_ERROR(check_buffer(c, rank(), recv, "receive", recvcount));
  }
  const std::size_t esize = dtype_size(dtype);
  return run_other_collective(
      c, options, recvcount * esize * size_, esize, dtype, op, [&](std::string_view algorithm) {
        return algorithm == "innet"
                   ? algorithms::innet_reduce_scatter(*this, send, recv, recvcount, dtype, op,
                                                      options.reproducible)
                   : algorithms::ring_reduce_scatter(*this, send, recv, recvcount, dtype, op);
      });
}

Status Communicator::allgather(const void* send, void* recv, std::size_t sendcount, Dtype dtype,
                               const CollectiveOptions& options) {
  const Collective c = Collective::allgather;
  INCA_RETURN_IF_ERROR(check_dtype(c, rank(), dtype));
  INCA_RETURN_IF_ERROR(check_count(c, rank(), sendcount, dtype, size_));
  if (!timing_only_) {
    INCA_RETURN_IF_ERROR(check_buffer(c, rank(), send, "send", sendcount));
    INCA_RETURN_IF_ERROR(check_buffer(c, rank(), recv, "receive", sendcount));
  }
  const std::size_t block = sendcount * dtype_size(dtype);
  return run_other_collective(c, options, block, dtype_size(dtype), dtype, ReduceOp::bor,
                              [&](std::string_view algorithm) {
                                if (algorithm == "innet")
                                  return algorithms::innet_allgather(*this, send, recv, block);
                                if (algorithm == "bruck")
                                  return algorithms::bruck_allgather(*this, send, recv, block);
                                return algorithms::ring_allgather(*this, send, recv, block);
                              });
}

Status Communicator::allreduce_loc(const void* send, void* recv, std::size_t count, LocDtype dtype,
                                   LocOp op) {
  const std::size_t pair = loc_pair_size(dtype);
  if (pair == 0 || (op != LocOp::minloc && op != LocOp::maxloc))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("allreduce_loc on rank {}: unknown pair dtype {} or op {}", rank_,
                                  static_cast<int>(dtype), static_cast<int>(op)));
  if (count > SIZE_MAX / pair)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("allreduce_loc on rank {}: {} pairs overflow the address space", rank_, count));
  if (!timing_only_ && count > 0 && (send == nullptr || recv == nullptr))
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("allreduce_loc on rank {}: null buffer with count {}", rank_, count));
  CollectiveState& st = state();
  st.last_note.clear();
  st.last_algorithm = "binomial_loc";
  AllreduceAlgorithm attempt;
  attempt.name = st.last_algorithm;
  attempt.run = [&](Communicator& comm, const AllreduceArgs&) {
    return algorithms::loc_allreduce(comm, send, recv, count, dtype, op);
  };
  // The attempt's dtype/op travel with its messages: ranks that disagree on
  // the op fail with `mismatch`.
  AllreduceArgs args;
  args.count = count;
  args.dtype = Dtype::u8;
  args.op = op == LocOp::minloc ? ReduceOp::min : ReduceOp::max;
  runtime::TraceSpan span =
      trace_collective("allreduce_loc", st.last_algorithm, count * pair, args.dtype, args.op);
  return run_collective(attempt, args);
}

}  // namespace inca
