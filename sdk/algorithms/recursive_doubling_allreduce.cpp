#include "algorithms/recursive_doubling_allreduce.hpp"

#include <cstring>
#include <vector>

#include "algorithms/p2p_steps.hpp"

namespace inca::algorithms {

Status recursive_doubling_allreduce(Communicator& comm, const AllreduceArgs& a) {
  const std::size_t bytes = a.count * dtype_size(a.dtype);
  const bool data = !comm.timing_only();
  if (data && a.send != a.recv && bytes > 0) std::memcpy(a.recv, a.send, bytes);
  if (comm.size() == 1 || a.count == 0) return {};
  const int tag = Communicator::kCollectiveTag + 1;
  const PowerOfTwoFold fold(comm.rank(), comm.size());
  INCA_RETURN_IF_ERROR(fold_in(comm, fold, a.recv, a.count, a.dtype, a.op, tag));
  if (fold.newrank >= 0) {
    std::vector<std::byte> theirs(data ? bytes : 0);
    for (int mask = 1; mask < fold.pof2; mask <<= 1) {
      const int peer = fold.real(fold.newrank ^ mask);
      INCA_RETURN_IF_ERROR(
          exchange(comm, peer, a.recv, bytes, data ? theirs.data() : nullptr, bytes, tag));
      // Both partners must compute bit-identical results: lower rank first.
      if (!data) {
        comm.reduce_local(nullptr, nullptr, a.count, a.dtype, a.op);
      } else if (peer < comm.rank()) {
        comm.reduce_local(theirs.data(), a.recv, a.count, a.dtype, a.op);
        std::memcpy(a.recv, theirs.data(), bytes);
      } else {
        comm.reduce_local(a.recv, theirs.data(), a.count, a.dtype, a.op);
      }
    }
  }
  return fold_out(comm, fold, a.recv, bytes, tag);
}

}  // namespace inca::algorithms
