#include "algorithms/ring_allgather.hpp"

#include <cstring>
#include <vector>

namespace inca::algorithms {

Status ring_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes) {
  const int p = comm.size();
  const int r = comm.rank();
  const bool data = !comm.timing_only();
  auto at = [&](int b) {
    return data ? static_cast<std::byte*>(recv) + static_cast<std::size_t>(b) * block_bytes
                : nullptr;
  };
  if (data && block_bytes > 0 && send != at(r)) std::memcpy(at(r), send, block_bytes);
  if (p == 1 || block_bytes == 0) return {};
  const int tag = Communicator::kCollectiveTag;  // private to the running collective
  const int right = (r + 1) % p;
  const int left = (r + p - 1) % p;

  std::vector<Request> sends;
  auto forward = [&](int b) -> Status {
    auto s = comm.post_send(at(b), block_bytes, right, tag);
    if (!s.ok()) return s.status();
    sends.push_back(*s);
    return {};
  };
  // In step s the block of rank r-s-1 arrives from the left.
  INCA_RETURN_IF_ERROR(forward(r));
  for (int s = 0; s < p - 1; ++s) {
    const int b = (r - s - 1 + p) % p;
    auto got = comm.post_recv(at(b), block_bytes, left, tag);
    if (!got.ok()) return got.status();
    INCA_RETURN_IF_ERROR(comm.wait(*got));
    if (s < p - 2) INCA_RETURN_IF_ERROR(forward(b));
  }
  return comm.wait_all(sends);
}

}  // namespace inca::algorithms
