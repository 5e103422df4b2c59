#include "bench_collectives.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "inca/algorithm.hpp"
#include "inca/reduce.hpp"

namespace inca::cli {

bool collective_reduces(Collective c) {
  return c == Collective::allreduce || c == Collective::reduce || c == Collective::reduce_scatter;
}

CollectiveSize size_collective(Collective c, std::size_t requested, std::size_t esize,
                               std::uint32_t ranks) {
  CollectiveSize s;
  if (c == Collective::barrier) return s;
  // nccl-tests' S is the whole buffer; reduce-scatter and all-gather split it
  // into one block per rank.
  const bool blocked = c == Collective::reduce_scatter || c == Collective::allgather;
  const std::size_t blocks = blocked ? ranks : 1;
  s.count = std::max<std::size_t>(1, requested / esize / blocks);
  const std::size_t block = s.count * esize;
  s.bytes = block * blocks;
  s.send_bytes = c == Collective::allgather ? block : s.bytes;
  s.recv_bytes = c == Collective::reduce_scatter ? block : s.bytes;
  s.model_bytes = c == Collective::allgather ? block : s.bytes;
  return s;
}

CollectiveData make_collective_data(Collective c, const CollectiveSize& s, std::uint32_t ranks,
                                    Dtype dtype, ReduceOp op, FillFn fill) {
  CollectiveData d;
  if (c == Collective::barrier) return d;
  const std::size_t esize = dtype_size(dtype);
  d.send.assign(ranks, std::vector<std::byte>(s.send_bytes));
  d.recv.assign(ranks, std::vector<std::byte>(s.recv_bytes));
  for (std::uint32_t r = 0; r < ranks; ++r)
    fill(d.send[r].data(), s.send_bytes / esize, dtype, op, r, ranks);
  if (c == Collective::broadcast) {
    d.reference = d.send[kBenchRoot];
  } else if (c == Collective::allgather) {
    for (const auto& block : d.send)
      d.reference.insert(d.reference.end(), block.begin(), block.end());
  } else {
    d.reference = d.send[0];
    for (std::uint32_t r = 1; r < ranks; ++r)
      reduce_into(d.reference.data(), d.send[r].data(), s.bytes / esize, dtype, op);
  }
  return d;
}

const std::byte* expected_result(Collective c, std::uint32_t rank, const CollectiveData& d) {
  const std::byte* want = d.reference.data();
  if (c == Collective::reduce_scatter) want += rank * d.recv[rank].size();
  return want;
}

void reset_collective_data(Collective c, CollectiveData& d, std::uint32_t r) {
  if (r >= d.recv.size()) return;
  const std::byte* want = expected_result(c, r, d);
  std::transform(want, want + d.recv[r].size(), d.recv[r].begin(), [](std::byte b) { return ~b; });
  if (c == Collective::broadcast && r == kBenchRoot) d.recv[r] = d.send[r];
}

void reset_collective_data(Collective c, CollectiveData& d) {
  for (std::uint32_t r = 0; r < d.recv.size(); ++r) reset_collective_data(c, d, r);
}

namespace {

// The six collectives' calls in one form, blocking (R = Status) or not
// (R = Result<Request>): their parameters are the same.
template <typename R>
struct CollectiveCalls {
  using Allreduce = R (Communicator::*)(const void*, void*, std::size_t, Dtype, ReduceOp,
                                        const AllreduceOptions&);
  using Reduce = R (Communicator::*)(const void*, void*, std::size_t, Dtype, ReduceOp, int,
                                     const CollectiveOptions&);
  using Broadcast = R (Communicator::*)(void*, std::size_t, Dtype, int, const CollectiveOptions&);
  using Barrier = R (Communicator::*)(const CollectiveOptions&);
  using ReduceScatter = R (Communicator::*)(const void*, void*, std::size_t, Dtype, ReduceOp,
                                            const CollectiveOptions&);
  using Allgather = R (Communicator::*)(const void*, void*, std::size_t, Dtype,
                                        const CollectiveOptions&);
  Allreduce allreduce;
  Reduce reduce;
  Broadcast broadcast;
  Barrier barrier;
  ReduceScatter reduce_scatter;
  Allgather allgather;
};

constexpr CollectiveCalls<Status> kBlocking{
    &Communicator::allreduce, &Communicator::reduce,         &Communicator::broadcast,
    &Communicator::barrier,   &Communicator::reduce_scatter, &Communicator::allgather};
constexpr CollectiveCalls<Result<Request>> kNonblocking{
    &Communicator::iallreduce, &Communicator::ireduce,         &Communicator::ibroadcast,
    &Communicator::ibarrier,   &Communicator::ireduce_scatter, &Communicator::iallgather};

template <typename R>
R invoke(const CollectiveCalls<R>& calls, Collective c, Communicator& comm, const CollectiveSize& s,
         Dtype dtype, ReduceOp op, const CollectiveOptions& options, CollectiveData& d) {
  const auto r = static_cast<std::size_t>(comm.rank());
  const bool data = !d.send.empty();
  const void* send = data ? d.send[r].data() : nullptr;
  void* recv = data ? d.recv[r].data() : nullptr;
  switch (c) {
    case Collective::allreduce:
      return (comm.*calls.allreduce)(
          send, recv, s.count, dtype, op,
          {.algorithm = options.algorithm, .reproducible = options.reproducible});
    case Collective::reduce:
      return (comm.*calls.reduce)(send, recv, s.count, dtype, op, kBenchRoot, options);
    case Collective::broadcast:
      return (comm.*calls.broadcast)(recv, s.count, dtype, kBenchRoot, options);
    case Collective::barrier:
      return (comm.*calls.barrier)(options);
    case Collective::reduce_scatter:
      return (comm.*calls.reduce_scatter)(send, recv, s.count, dtype, op, options);
    case Collective::allgather:
      return (comm.*calls.allgather)(send, recv, s.count, dtype, options);
  }
  return make_error(StatusCode::invalid_argument, "unknown collective");
}

}  // namespace

Status call_collective(Collective c, Communicator& comm, const CollectiveSize& s, Dtype dtype,
                       ReduceOp op, const CollectiveOptions& options, CollectiveData& d) {
  return invoke(kBlocking, c, comm, s, dtype, op, options, d);
}

Result<Request> start_collective(Collective c, Communicator& comm, const CollectiveSize& s,
                                 Dtype dtype, ReduceOp op, const CollectiveOptions& options,
                                 CollectiveData& d) {
  return invoke(kNonblocking, c, comm, s, dtype, op, options, d);
}

std::string check_collective(Collective c, std::uint32_t rank, const CollectiveSize& s,
                             const CollectiveData& d) {
  if (d.send.empty() || (c == Collective::reduce && rank != kBenchRoot)) return "";
  if (std::memcmp(d.recv[rank].data(), expected_result(c, rank, d), s.recv_bytes) == 0) return "";
  if (c == Collective::broadcast) return "result differs from the root's data";
  if (c == Collective::allgather) return "result differs from the ranks' blocks";
  return "result differs from the reference reduction";
}

Status check_collective_algorithm(Collective c, const std::string& algorithm) {
  if (c == Collective::allreduce) {
    if (algorithm == "auto" || find_allreduce(algorithm)) return {};
    return make_error(StatusCode::invalid_argument,
                      fmt::format("unknown algorithm '{}' (registered: {})", algorithm,
                                  fmt::join(allreduce_names(), ", ")));
  }
  const auto hosts = host_algorithms(c);
  if (algorithm == "auto" || algorithm == "innet" ||
      std::find(hosts.begin(), hosts.end(), algorithm) != hosts.end())
    return {};
  return make_error(StatusCode::invalid_argument,
                    fmt::format("unknown {} algorithm '{}' (choose auto, innet or {})",
                                to_string(c), algorithm, fmt::join(hosts, ", ")));
}

bool algorithm_uses_switches(Collective c, const std::string& algorithm) {
  if (c != Collective::allreduce) return algorithm == "innet";
  const AllreduceAlgorithm* found = find_allreduce(algorithm);
  return found != nullptr && found->uses_switches;
}

std::vector<std::string> default_algorithms(Collective c) {
  std::vector<std::string> names{"innet"};
  for (std::string_view host : host_algorithms(c)) names.emplace_back(host);
  return names;
}

}  // namespace inca::cli
