// Non-blocking collectives: each runs the blocking collective on a fiber of
// its own (runtime/collective_fibers.hpp). The fiber runs at once until the
// collective first blocks, so its argument checks and its attempt number
// (which selects its private tags, and its place in the tree's queue) happen
// in the order the rank started it, as on every other rank.
#include <exception>

#include <fmt/format.h>

#include "inca/algorithm.hpp"
#include "inca/communicator.hpp"
#include "runtime/collective_fibers.hpp"
#include "runtime/trace_span.hpp"

namespace inca {

Result<Request> Communicator::start_nonblocking(const char* what,
                                                std::function<Status()> collective) {
  if (fibers_->current() != 0)
    return make_error(StatusCode::not_supported,
                      fmt::format("{} on rank {}: non-blocking collectives are started by the rank "
                                  "program, not from inside a collective",
                                  what, rank_));
  auto result = std::make_shared<Status>();
  const std::uint64_t fiber = fibers_->start([result, collective = std::move(collective)] {
    // An exception must not leave a fiber's stack (it would end the program).
    try {
      *result = collective();
    } catch (const std::exception& e) {
      *result = make_error(StatusCode::internal, e.what());
    }
  });
  if (fibers_->finished(fiber) && !result->ok()) {
    // Refused before anything was sent (bad arguments, not_supported).
    fibers_->release(fiber);
    if (trace::TraceSink* t = driver_.trace()) t->fiber_done(world_rank(rank()), fiber);
    return *result;
  }
  const Request request{kCollectiveRequestBit | fiber};
  pending_.emplace(request.id, PendingCollective{fiber, std::move(result)});
  return request;
}

Status Communicator::wait_collective(std::uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end())
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: collective request {} is not pending on this "
                                  "communicator (waited for already, or never started)",
                                  rank_, id & ~kCollectiveRequestBit));
  if (fibers_->current() != 0)
    return make_error(StatusCode::not_supported,
                      fmt::format("rank {}: a collective request is completed by the rank "
                                  "program, not from inside a collective",
                                  rank_));
  const std::uint64_t fiber = it->second.fiber;
  runtime::TraceSpan span = trace_wait("a non-blocking collective");
  driver_.block_until([&] { return fibers_->finished(fiber); }, kNever);
  span.end();
  // What it chose is what last_algorithm() reports now, as after a blocking call.
  if (const auto* done = fibers_->local_of<CollectiveState>(fiber, this)) {
    main_state_.last_algorithm = done->last_algorithm;
    main_state_.last_note = done->last_note;
  }
  Status s = *it->second.result;
  pending_.erase(it);
  fibers_->release(fiber);
  if (trace::TraceSink* t = driver_.trace()) t->fiber_done(world_rank(rank()), fiber);
  return s;
}

bool Communicator::test(Request request) {
  fibers_->poll();
  if (is_collective_request(request)) {
    auto it = pending_.find(request.id);
    return it == pending_.end() || fibers_->finished(it->second.fiber);
  }
  protocol::HostEndpoint& ep = driver_.endpoint();
  return ep.done(request.id) || !ep.pending(request.id);
}

void Communicator::progress_for(Time duration) {
  runtime::TraceSpan span = trace_span(TraceDetail::steps, "step", "compute", [&] {
    return trace::Args{{"us", to_micros(duration)}};
  });
  driver_.wait_until(driver_.now() + duration);
}

Result<Request> Communicator::iallreduce(const void* send, void* recv, std::size_t count,
                                         Dtype dtype, ReduceOp op,
                                         const AllreduceOptions& options) {
  // An algorithm's set-up runs collectives of its own (hierarchical's
  // splits): here, blocking, so that they keep the order in which the rank
  // starts collectives; the fiber then finds it done.
  const AllreduceAlgorithm* algorithm = find_allreduce(options.algorithm);
  if (algorithm && algorithm->prepare && fibers_->current() == 0)
    INCA_RETURN_IF_ERROR(algorithm->prepare(*this));
  return start_nonblocking("iallreduce",
                           [=, this] { return allreduce(send, recv, count, dtype, op, options); });
}

Result<Request> Communicator::ireduce(const void* send, void* recv, std::size_t count, Dtype dtype,
                                      ReduceOp op, int root, const CollectiveOptions& options) {
  return start_nonblocking(
      "ireduce", [=, this] { return reduce(send, recv, count, dtype, op, root, options); });
}

Result<Request> Communicator::ibroadcast(void* buf, std::size_t count, Dtype dtype, int root,
                                         const CollectiveOptions& options) {
  return start_nonblocking("ibroadcast",
                           [=, this] { return broadcast(buf, count, dtype, root, options); });
}

Result<Request> Communicator::ibarrier(const CollectiveOptions& options) {
  return start_nonblocking("ibarrier", [=, this] { return barrier(options); });
}

Result<Request> Communicator::ireduce_scatter(const void* send, void* recv, std::size_t recvcount,
                                              Dtype dtype, ReduceOp op,
                                              const CollectiveOptions& options) {
  return start_nonblocking("ireduce_scatter", [=, this] {
    return reduce_scatter(send, recv, recvcount, dtype, op, options);
  });
}

Result<Request> Communicator::iallgather(const void* send, void* recv, std::size_t sendcount,
                                         Dtype dtype, const CollectiveOptions& options) {
  return start_nonblocking("iallgather",
                           [=, this] { return allgather(send, recv, sendcount, dtype, options); });
}

}  // namespace inca
