#include "algorithms/binomial_broadcast.hpp"

#include <vector>

namespace inca::algorithms {

Status binomial_broadcast(Communicator& comm, void* buf, std::size_t bytes, int root) {
  const int p = comm.size();
  if (p == 1 || bytes == 0) return {};
  const int tag = Communicator::kCollectiveTag;  // private to the running collective
  const int vrank = (comm.rank() - root + p) % p;
  auto real = [&](int v) { return (v + root) % p; };
  void* data = comm.timing_only() ? nullptr : buf;

  int mask = 1;
  for (; mask < p; mask <<= 1) {
    if (vrank & mask) {
      auto r = comm.post_recv(data, bytes, real(vrank - mask), tag);
      if (!r.ok()) return r.status();
      INCA_RETURN_IF_ERROR(comm.wait(*r));
      break;
    }
  }
  // Children are the ranks vrank + 2^j for every j below the bit we received on.
  std::vector<Request> sends;
  for (mask >>= 1; mask > 0; mask >>= 1) {
    if (vrank + mask >= p) continue;
    auto s = comm.post_send(data, bytes, real(vrank + mask), tag);
    if (!s.ok()) return s.status();
    sends.push_back(*s);
  }
  return comm.wait_all(sends);
}

}  // namespace inca::algorithms
