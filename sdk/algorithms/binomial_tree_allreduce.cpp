#include "algorithms/binomial_tree_allreduce.hpp"

#include <cstring>
#include <vector>

#include "inca/communicator.hpp"

namespace inca::algorithms {

Status binomial_tree_allreduce(Communicator& comm, const AllreduceArgs& a) {
  const std::size_t bytes = a.count * dtype_size(a.dtype);
  const bool data = !comm.timing_only();
  if (data && a.send != a.recv && bytes > 0) std::memcpy(a.recv, a.send, bytes);
  const int p = comm.size();
  const int rank = comm.rank();
  if (p == 1 || a.count == 0) return {};
  const int tag = Communicator::kCollectiveTag + 3;
  std::vector<std::byte> child(data ? bytes : 0);

  // Reduce to rank 0: at distance `mask`, ranks with that bit send to rank - mask.
  int mask = 1;
  for (; mask < p; mask <<= 1) {
    if (rank & mask) {
      auto s = comm.post_send(a.recv, bytes, rank - mask, tag);
      if (!s.ok()) return s.status();
      INCA_RETURN_IF_ERROR(comm.wait(*s));
      break;
    }
    if (rank + mask < p) {
      auto r = comm.post_recv(data ? child.data() : nullptr, bytes, rank + mask, tag);
      if (!r.ok()) return r.status();
      INCA_RETURN_IF_ERROR(comm.wait(*r));
      comm.reduce_local(a.recv, data ? child.data() : nullptr, a.count, a.dtype, a.op);
    }
  }
  // Broadcast back down the same tree.
  if (rank != 0) {
    auto r = comm.post_recv(a.recv, bytes, rank - mask, tag);
    if (!r.ok()) return r.status();
    INCA_RETURN_IF_ERROR(comm.wait(*r));
  }
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (rank + mask < p) {
      auto s = comm.post_send(a.recv, bytes, rank + mask, tag);
      if (!s.ok()) return s.status();
      INCA_RETURN_IF_ERROR(comm.wait(*s));
    }
  }
  return {};
}

}  // namespace inca::algorithms
