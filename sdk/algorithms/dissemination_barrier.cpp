#include "algorithms/dissemination_barrier.hpp"

namespace inca::algorithms {

Status dissemination_barrier(Communicator& comm) {
  const int p = comm.size();
  const int rank = comm.rank();
  // The sources of the rounds, r - 2^k mod p, are distinct, so one tag serves.
  const int tag = Communicator::kCollectiveTag;  // private to the running collective
  for (int distance = 1; distance < p; distance <<= 1) {
    auto r = comm.post_recv(nullptr, 0, (rank - distance + p) % p, tag);
    if (!r.ok()) return r.status();
    auto s = comm.post_send(nullptr, 0, (rank + distance) % p, tag);
    if (!s.ok()) return s.status();
    Status sent = comm.wait(*s);
    Status received = comm.wait(*r);
    INCA_RETURN_IF_ERROR(sent);
    INCA_RETURN_IF_ERROR(received);
  }
  return {};
}

}  // namespace inca::algorithms
