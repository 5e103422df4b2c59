#include "algorithms/binomial_reduce.hpp"

#include <cstring>
#include <vector>

namespace inca::algorithms {

Status binomial_reduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                       Dtype dtype, ReduceOp op, int root) {
  return binomial_reduce_with(
      comm, send, recv, count * dtype_size(dtype), root,
      [&](void* acc, const void* in) { comm.reduce_local(acc, in, count, dtype, op); });
}

Status binomial_reduce_with(Communicator& comm, const void* send, void* recv, std::size_t bytes,
                            int root, const CombineFn& combine) {
  const int p = comm.size();
  const int rank = comm.rank();
  const bool data = !comm.timing_only();
  // The root accumulates in its receive buffer; the others in scratch, since
  // their receive buffer may be absent.
  std::vector<std::byte> own(data && rank != root ? bytes : 0);
  void* acc = rank == root ? recv : (data ? own.data() : nullptr);
  if (data && bytes > 0 && acc != send) std::memcpy(acc, send, bytes);
  if (p == 1 || bytes == 0) return {};

  const int tag = Communicator::kCollectiveTag;  // private to the running collective
  const int vrank = (rank - root + p) % p;
  auto real = [&](int v) { return (v + root) % p; };
  std::vector<std::byte> child(data ? bytes : 0);
  for (int mask = 1; mask < p; mask <<= 1) {
    if (vrank & mask) {
      auto s = comm.post_send(acc, bytes, real(vrank - mask), tag);
      return s.ok() ? comm.wait(*s) : s.status();
    }
    if (vrank + mask < p) {
      auto r = comm.post_recv(data ? child.data() : nullptr, bytes, real(vrank + mask), tag);
      if (!r.ok()) return r.status();
      INCA_RETURN_IF_ERROR(comm.wait(*r));
      // Lower-indexed ranks first: the same order on every run.
      combine(acc, data ? child.data() : nullptr);
    }
  }
  return {};
}

}  // namespace inca::algorithms
