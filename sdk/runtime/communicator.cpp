#include "inca/communicator.hpp"

#include <cstring>

#include <fmt/format.h>

#include "inca/algorithm.hpp"
#include "inca/reduce.hpp"
#include "manager/aggregation_manager.hpp"
#include "protocol/host_driver.hpp"
#include "runtime/collective_fibers.hpp"
#include "runtime/model_answers.hpp"
#include "runtime/trace_span.hpp"
#include "runtime/tree_service.hpp"

namespace inca {

Communicator::Communicator(std::uint32_t rank, std::uint32_t size, protocol::HostDriver& driver,
                           const manager::TreePlan* tree, Status innet_status, bool timing_only,
                           const ModelFabric* model)
    : rank_(rank),
      size_(size),
      timing_only_(timing_only),
      fibers_(runtime::CollectiveFibers::of(driver)),
      driver_(*fibers_),
      tree_(tree),
      innet_status_(std::move(innet_status)),
      model_(model) {}

Time Communicator::now() const {
  return driver_.now();
}

protocol::HostDriver& Communicator::driver() {
  return driver_;
}

Communicator::CollectiveState& Communicator::state() {
  return fibers_->current() ? fibers_->local<CollectiveState>(this) : main_state_;
}

const Communicator::CollectiveState& Communicator::state() const {
  return fibers_->current() ? fibers_->local<CollectiveState>(this) : main_state_;
}

const std::string& Communicator::last_algorithm() const {
  return state().last_algorithm;
}

const std::string& Communicator::last_note() const {
  return state().last_note;
}

namespace {

// What a rank sends is built in one outbox per thread, handed out empty
// (not every driver's transmit empties it): it keeps its capacity (no
// allocation per message) and stays in cache, where one per rank would be
// cold by the rank's next send. Sends do not nest, and the simulator's
// fibers share their thread one at a time.
protocol::Outbox& send_outbox() {
  thread_local protocol::Outbox out;
  out.clear();
  return out;
}

// True when [a, a+n) and [b, b+n) overlap without being identical.
bool partial_overlap(const void* a, const void* b, std::size_t n) {
  const auto* x = static_cast<const std::byte*>(a);
  const auto* y = static_cast<const std::byte*>(b);
  return x != y && x < y + n && y < x + n;
}

}  // namespace

Status Communicator::allreduce(const void* send, void* recv, std::size_t count, Dtype dtype,
                               ReduceOp op, const AllreduceOptions& options) {
  INCA_RETURN_IF_ERROR(check_op(op, dtype));
  if (count > SIZE_MAX / dtype_size(dtype))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("allreduce on rank {}: {} elements of {} overflow the address "
                                  "space",
                                  rank_, count, to_string(dtype)));
  const std::size_t bytes = count * dtype_size(dtype);
  if (count > 0 && !timing_only_ && (send == nullptr || recv == nullptr))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("allreduce on rank {}: null buffer with count {}", rank_, count));
  if (count > 0 && !timing_only_ && partial_overlap(send, recv, bytes))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("allreduce on rank {}: send and receive buffers overlap "
                                  "(only identical buffers, in place, are allowed)",
                                  rank_));
  AllreduceArgs args{send, recv, count, dtype, op, options.reproducible};
  CollectiveState& st = state();
  st.last_note.clear();
  refresh_tree();  // a failure may have re-formed it since the last collective
  std::string name = options.algorithm;
  if (name == "auto") {
    name = choose_allreduce(bytes, dtype, op);
    if (size_ > 1 && !innet_available())
      st.last_note = "in-network unavailable (" + innet_status_.to_string() + "); chose " + name;
    else if (size_ > 1 && !caps().supports(dtype, op))
      st.last_note = fmt::format("the switches do not aggregate {} {}; chose {}", to_string(dtype),
                                 to_string(op), name);
    else if (Status lock = streaming_lock(bytes); size_ > 1 && !lock.ok())
      st.last_note = fmt::format("{} B needs the streaming lock ({}); chose {}", bytes,
                                 lock.to_string(), name);
  }
  const AllreduceAlgorithm* algorithm = find_allreduce(name);
  if (!algorithm)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("unknown all-reduce algorithm '{}'", name));
  if (algorithm->prepare) {
    const std::string note = st.last_note;  // the set-up's own collectives reset it
    INCA_RETURN_IF_ERROR(algorithm->prepare(*this));
    st.last_note = note;
  }
  st.last_algorithm = name;
  runtime::TraceSpan span = trace_collective("allreduce", name, bytes, dtype, op);
  Status s = run_collective(*algorithm, args);
  if (!s.ok()) span.add("status", s.to_string());
  return s;
}

runtime::TraceSpan Communicator::trace_span(TraceDetail level, std::string_view category,
                                            std::string_view name,
                                            const std::function<trace::Args()>& args) {
  trace::TraceSink* sink = driver_.trace();
  if (!sink || sink->detail() < level) return {};
  const trace::Lane lane = sink->lane(world_rank(rank()), fibers_->current());
  return runtime::TraceSpan(*sink, lane, driver_, category, std::string(name),
                            args ? args() : trace::Args{});
}

runtime::TraceSpan Communicator::trace_collective(std::string_view collective,
                                                  const std::string& algorithm, std::size_t bytes,
                                                  Dtype dtype, ReduceOp op) {
  return trace_span(TraceDetail::collectives, "collective", collective, [&] {
    return trace::Args{{"algorithm", algorithm},
                       {"bytes", static_cast<std::int64_t>(bytes)},
                       {"dtype", std::string(to_string(dtype))},
                       {"op", std::string(to_string(op))},
                       {"ranks", static_cast<std::int64_t>(size_)}};
  });
}

runtime::TraceSpan Communicator::trace_wait(const char* what) {
  return trace_span(TraceDetail::steps, "step", "wait", [&] {
    return trace::Args{{"for", std::string(what)}};
  });
}

SwitchCaps Communicator::caps() const {
  return innet_available() && tree_ ? tree_->caps : SwitchCaps::none();
}

Status Communicator::check_caps(std::string_view what, Dtype dtype, ReduceOp op) const {
  if (size_ == 1 || caps().supports(dtype, op)) return {};
  return make_error(StatusCode::not_supported,
                    fmt::format("{} on rank {}: the switches of this tree do not aggregate {} {} "
                                "(they aggregate {})",
                                what, rank_, to_string(dtype), to_string(op), caps().describe()));
}

Status Communicator::streaming_lock(std::size_t bytes) const {
  if (!trees_ || !tree_ || !tree_->streaming || bytes <= tree_->streaming_threshold) return {};
  const CollectiveState& st = state();
  return trees_->streaming_lock(st.in_collective ? st.attempt : *attempts_ + 1);
}

std::string Communicator::choose_allreduce(std::size_t bytes, Dtype dtype, ReduceOp op) const {
  if (size_ == 1) return "ring";
  const bool innet = innet_available() && caps().supports(dtype, op) && streaming_lock(bytes).ok();
  const std::size_t elem_size = dtype_size(dtype);
  // Without a model, in-network whenever a tree exists: it moves each byte
  // once per NIC where host algorithms move it at least 2(p-1)/p times.
  if (!model_) return innet ? "innet" : "ring";
  std::string best;
  Time best_time = kNever;
  for (const char* candidate :
       {"innet", "ring", "rabenseifner", "recursive_doubling", "binomial_tree"}) {
    if (std::string_view(candidate) == "innet" && !innet) continue;
    const auto t = modelled(Collective::allreduce, candidate, bytes, elem_size);
    if (t && *t < best_time) {
      best_time = *t;
      best = candidate;
    }
  }
  return best.empty() ? "ring" : best;
}

std::optional<Time> Communicator::modelled(Collective collective, const std::string& algorithm,
                                           std::size_t bytes, std::size_t elem_size) const {
  auto compute = [&] { return model_collective(collective, algorithm, *model_, bytes, elem_size); };
  if (!model_answers_) return compute();
  return model_answers_->answer(static_cast<int>(collective), algorithm, bytes, elem_size, compute);
}

std::size_t Communicator::innet_payload_bytes() const {
  return tree_ ? tree_->slot_payload_bytes : 0;
}

Status Communicator::innet_allreduce(const void* send, void* recv, std::size_t count, Dtype dtype,
                                     ReduceOp op, bool reproducible, ElementRange held,
                                     ElementRange kept) {
  INCA_RETURN_IF_ERROR(check_op(op, dtype));
  if (!held.covers(count) && !zero_is_identity(op, dtype))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("in-network all-reduce on rank {}: a {} {} reduction cannot "
                                  "leave this rank's chunks outside elements [{}, +{}) out: zero "
                                  "is not its identity",
                                  rank_, to_string(dtype), to_string(op), held.first, held.count));
  if (count > SIZE_MAX / dtype_size(dtype))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("in-network all-reduce on rank {}: {} elements of {} overflow "
                                  "the address space",
                                  rank_, count, to_string(dtype)));
  if (count > 0 && !timing_only_ && (send == nullptr || recv == nullptr))
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("in-network all-reduce on rank {}: null buffer with count {}", rank_, count));
  if (count > 0 && !timing_only_ && partial_overlap(send, recv, count * dtype_size(dtype)))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("in-network all-reduce on rank {}: send and receive buffers "
                                  "overlap (only identical buffers, in place, are allowed)",
                                  rank_));
  if (size_ == 1) {
    if (!timing_only_ && count > 0 && send != recv)
      std::memcpy(recv, send, count * dtype_size(dtype));
    return {};
  }
  // Called on its own (not by allreduce), it is a collective attempt of its
  // own: a World's communicator runs it as one, agreeing on its outcome with
  // the other ranks (never re-run: the switch primitive does not fall back).
  CollectiveState& st = state();
  if (!st.in_collective && trees_) {
    refresh_tree();
    const AllreduceAlgorithm* innet = find_allreduce("innet");
    if (!innet) return make_error(StatusCode::internal, "the innet algorithm is not registered");
    return run_collective(
        *innet, AllreduceArgs{send, recv, count, dtype, op, reproducible, held, kept}, false);
  }
  if (!st.in_collective) st.attempt = ++*attempts_;
  if (!innet_status_.ok())
    return make_error(StatusCode::not_supported,
                      "in-network all-reduce unavailable: " + innet_status_.to_string());
  INCA_RETURN_IF_ERROR(check_caps("in-network all-reduce", dtype, op));
  INCA_RETURN_IF_ERROR(streaming_lock(count * dtype_size(dtype)));
  protocol::InnetAllreduce spec;
  spec.tree = tree_->tree;
  spec.child_index = tree_->members[rank_].child_index;
  spec.window = tree_->slots;
  spec.slot_payload_bytes = tree_->slot_payload_bytes;
  spec.send = send;
  spec.recv = recv;
  spec.count = count;
  spec.dtype = dtype;
  spec.op = op;
  spec.flags = reproducible ? wire::kFlagReproducible : 0;
  spec.attempt_tag = static_cast<std::uint8_t>(st.attempt);
  spec.chunk_service = tree_->chunk_service;
  spec.held_first = std::min(held.first, count);
  spec.held_end = spec.held_first + std::min(held.count, count - spec.held_first);
  spec.kept_first = std::min(kept.first, count);
  spec.kept_end = spec.kept_first + std::min(kept.count, count - spec.kept_first);
  runtime::TraceSpan span = trace_span(TraceDetail::steps, "step", "innet stream", [&] {
    const std::size_t bytes = count * dtype_size(dtype);
    return trace::Args{
        {"bytes", static_cast<std::int64_t>(bytes)},
        {"packets", static_cast<std::int64_t>((bytes + spec.slot_payload_bytes - 1) /
                                              std::max<std::size_t>(1, spec.slot_payload_bytes))},
        {"window", static_cast<std::int64_t>(spec.window)},
        {"tree", static_cast<std::int64_t>(spec.tree)}};
  });
  protocol::Outbox& out = send_outbox();
  auto id = driver_.endpoint().start_innet(spec, driver_.now(), out);
  driver_.transmit(out);
  if (!id.ok()) return id.status();
  return wait_op(*id, "in-network all-reduce");
}

Status Communicator::wait_op(std::uint64_t id, const char* what) {
  protocol::HostEndpoint& ep = driver_.endpoint();
  if (!ep.done(id) && !ep.pending(id))
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: {}: request {} is not pending (waited for already, "
                                  "or never posted)",
                                  rank_, what, id));
  // Inside a collective every rank takes part, so a wait half again as long as
  // the failure timeout means a peer is gone or stuck: fail it rather than
  // hang on a fabric that cannot tell (the simulator would, when nothing is in
  // flight). The endpoint's own give-up comes first when it has one; both fit
  // in the agreement window, so the rank still reports in time.
  const Time patience = trees_ ? trees_->options().failure_timeout * 3 / 2 : kNever;
  const Time deadline = state().in_collective && trees_ ? driver_.now() + patience : kNever;
  const bool done = driver_.block_until([&] { return ep.done(id); }, deadline);
  if (!done && deadline != kNever && driver_.now() >= deadline)
    return make_error(StatusCode::timeout, fmt::format("rank {}: {} made no progress for {:.1f} ms",
                                                       rank_, what, to_micros(patience) / 1000));
  if (!done) {
    ep.abort_all(make_error(StatusCode::timeout, "aborted: no progress possible"));
    ep.release(id);
    return make_error(StatusCode::timeout, fmt::format("rank {}: {} cannot complete: {}", rank_,
                                                       what, driver_.stall_reason()));
  }
  Status s = ep.status(id);
  ep.release(id);
  return s;
}

Result<Request> Communicator::post_send(const void* data, std::size_t bytes, int dst, int tag) {
  if (dst < 0 || static_cast<std::uint32_t>(dst) >= size_)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: send to rank {} outside 0..{}", rank_, dst, size_ - 1));
  if (tag < 0 || tag > 0xffff)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: send with tag {} outside 0..65535", rank_, tag));
  protocol::Outbox& out = send_outbox();
  auto id = driver_.endpoint().post_send(world_rank(dst), wire_tag(tag), message_kind(tag), data,
                                         bytes, driver_.now(), out);
  driver_.transmit(out);
  if (!id.ok()) return id.status();
  // The moment the message is handed to the NIC (its wire time shows on the links).
  if (runtime::TraceSpan sent = trace_span(TraceDetail::steps, "step", "send", [&] {
        return trace::Args{{"to", static_cast<std::int64_t>(dst)},
                           {"bytes", static_cast<std::int64_t>(bytes)}};
      })) {
    sent.end();
    traced_requests_[*id] = {true, dst, bytes};
  }
  return Request{*id};
}

Result<Request> Communicator::post_recv(void* data, std::size_t bytes, int src, int tag) {
  if (src < 0 || static_cast<std::uint32_t>(src) >= size_)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("rank {}: receive from rank {} outside 0..{}", rank_, src, size_ - 1));
  if (tag < 0 || tag > 0xffff)
    return make_error(StatusCode::invalid_argument,
                      fmt::format("rank {}: receive with tag {} outside 0..65535", rank_, tag));
  auto id =
      driver_.endpoint().post_recv(world_rank(src), wire_tag(tag), message_kind(tag), data, bytes);
  if (!id.ok()) return id.status();
  trace::TraceSink* sink = driver_.trace();
  if (sink && sink->detail() >= TraceDetail::steps) traced_requests_[*id] = {false, src, bytes};
  return Request{*id};
}

static Status check_user_tag(int tag) {
  if (tag < 0 || tag > kMaxUserTag)
    return make_error(
        StatusCode::invalid_argument,
        fmt::format("tag {} outside 0..{} (higher tags belong to collectives)", tag, kMaxUserTag));
  return {};
}

Result<Request> Communicator::isend(const void* data, std::size_t bytes, int dst, int tag) {
  INCA_RETURN_IF_ERROR(check_user_tag(tag));
  return post_send(data, bytes, dst, tag);
}

Result<Request> Communicator::irecv(void* data, std::size_t bytes, int src, int tag) {
  INCA_RETURN_IF_ERROR(check_user_tag(tag));
  return post_recv(data, bytes, src, tag);
}

Status Communicator::wait(Request request) {
  if (is_collective_request(request)) return wait_collective(request.id);
  CollectiveState& st = state();
  if (!st.deferred_error.ok() && !st.in_collective)
    return std::exchange(st.deferred_error, Status());
  runtime::TraceSpan span;
  if (auto traced = traced_requests_.find(request.id); traced != traced_requests_.end()) {
    const TracedRequest t = traced->second;
    traced_requests_.erase(traced);
    span = trace_span(TraceDetail::steps, "step", t.send ? "wait" : "receive", [&] {
      trace::Args args{{"bytes", static_cast<std::int64_t>(t.bytes)}};
      if (t.send)
        args.push_back({"for", fmt::format("send to {} to complete", t.peer)});
      else
        args.push_back({"from", static_cast<std::int64_t>(t.peer)});
      return args;
    });
  }
  return wait_op(request.id, "point-to-point wait");
}

Status Communicator::wait_all(std::span<Request> requests) {
  Status first;
  for (Request& r : requests) {
    Status s = wait(r);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status Communicator::send(const void* data, std::size_t bytes, int dst, int tag) {
  auto r = isend(data, bytes, dst, tag);
  if (!r.ok()) return r.status();
  return wait(*r);
}

Status Communicator::recv(void* data, std::size_t bytes, int src, int tag) {
  auto r = irecv(data, bytes, src, tag);
  if (!r.ok()) return r.status();
  return wait(*r);
}

void Communicator::reduce_local(void* acc, const void* in, std::size_t count, Dtype dtype,
                                ReduceOp op) {
  Status valid = check_op(op, dtype);
  if (valid.ok() && count > SIZE_MAX / dtype_size(dtype))
    valid = make_error(StatusCode::invalid_argument, fmt::format("{} elements overflow", count));
  if (valid.ok() && count > 0 && !timing_only_ && (acc == nullptr || in == nullptr))
    valid =
        make_error(StatusCode::invalid_argument, fmt::format("null buffer with count {}", count));
  if (valid.ok() && count > 0 && !timing_only_ &&
      partial_overlap(acc, in, count * dtype_size(dtype)))
    valid = make_error(StatusCode::invalid_argument, "buffers overlap partially");
  if (!valid.ok()) {
    CollectiveState& st = state();
    if (st.deferred_error.ok())
      st.deferred_error = make_error(
          valid.code(), fmt::format("reduce_local on rank {}: {}", rank_, valid.message()));
    return;
  }
  runtime::TraceSpan span = trace_span(TraceDetail::steps, "step", "reduce", [&] {
    return trace::Args{{"bytes", static_cast<std::int64_t>(count * dtype_size(dtype))}};
  });
  if (!timing_only_) reduce_into(acc, in, count, dtype, op);
  driver_.account_compute(count * dtype_size(dtype));
}

}  // namespace inca
