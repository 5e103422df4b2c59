#include "algorithms/loc_allreduce.hpp"

#include "algorithms/binomial_broadcast.hpp"
#include "algorithms/binomial_reduce.hpp"
#include "protocol/host_driver.hpp"

namespace inca::algorithms {

Status loc_allreduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                     LocDtype dtype, LocOp op) {
  const std::size_t bytes = count * loc_pair_size(dtype);
  Status combined;
  INCA_RETURN_IF_ERROR(
      binomial_reduce_with(comm, send, recv, bytes, 0, [&](void* acc, const void* in) {
        if (!comm.timing_only() && combined.ok())
          combined = reduce_loc_into(acc, in, count, dtype, op);
        comm.driver().account_compute(bytes);
      }));
  INCA_RETURN_IF_ERROR(combined);
  return binomial_broadcast(comm, recv, bytes, 0);
}

}  // namespace inca::algorithms
