#include "algorithms/ring_reduce_scatter.hpp"

#include <cstring>
#include <vector>

namespace inca::algorithms {

Status ring_reduce_scatter(Communicator& comm, const void* send, void* recv, std::size_t recvcount,
                           Dtype dtype, ReduceOp op) {
  const int p = comm.size();
  const int r = comm.rank();
  const bool data = !comm.timing_only();
  const std::size_t block = recvcount * dtype_size(dtype);
  if (p == 1 || recvcount == 0) {
    if (data && block > 0 && send != recv) std::memcpy(recv, send, block);
    return {};
  }
  const int tag = Communicator::kCollectiveTag;  // private to the running collective
  const int right = (r + 1) % p;
  const int left = (r + p - 1) % p;
  // Partial sums accumulate in a copy of the send buffer, which stays intact.
  std::vector<std::byte> work(data ? block * static_cast<std::size_t>(p) : 0);
  if (data) std::memcpy(work.data(), send, work.size());
  std::vector<std::byte> incoming(data ? block : 0);
  auto at = [&](int b) {
    return data ? work.data() + static_cast<std::size_t>(b) * block : nullptr;
  };

  std::vector<Request> sends;
  auto forward = [&](int b) -> Status {
    auto s = comm.post_send(at(b), block, right, tag);
    if (!s.ok()) return s.status();
    sends.push_back(*s);
    return {};
  };
  // Block r-1 starts here and travels right; in step s block r-s-2 arrives
  // carrying the contributions of the s+1 ranks to our left.
  INCA_RETURN_IF_ERROR(forward((r + p - 1) % p));
  for (int s = 0; s < p - 1; ++s) {
    const int b = (r - s - 2 + 2 * p) % p;
    auto got = comm.post_recv(data ? incoming.data() : nullptr, block, left, tag);
    if (!got.ok()) return got.status();
    INCA_RETURN_IF_ERROR(comm.wait(*got));
    comm.reduce_local(at(b), data ? incoming.data() : nullptr, recvcount, dtype, op);
    if (s < p - 2) INCA_RETURN_IF_ERROR(forward(b));
  }
  if (data) std::memcpy(recv, at(r), block);
  return comm.wait_all(sends);
}

}  // namespace inca::algorithms
