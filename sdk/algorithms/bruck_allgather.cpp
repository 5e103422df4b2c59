#include "algorithms/bruck_allgather.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace inca::algorithms {

Status bruck_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes) {
  const std::size_t p = static_cast<std::size_t>(comm.size());
  const std::size_t r = static_cast<std::size_t>(comm.rank());
  const bool data = !comm.timing_only();
  auto* out = static_cast<std::byte*>(recv);
  // Block i of `held` is rank (r + i) mod p's; it starts with our own.
  std::vector<std::byte> held(data ? p * block_bytes : 0);
  if (data && block_bytes > 0) std::memcpy(held.data(), send, block_bytes);
  if (p > 1 && block_bytes > 0) {
    const int tag = Communicator::kCollectiveTag;  // private to the running collective
    std::vector<Request> sends;
    // Holding `have` blocks, a rank trades with the ranks `have` away.
    for (std::size_t have = 1; have < p;) {
      // The last step of a p that is no power of two sends only what is missing.
      const std::size_t blocks = std::min(have, p - have);
      const int from = static_cast<int>((r + have) % p);
      const int to = static_cast<int>((r + p - have) % p);
      auto got = comm.post_recv(data ? held.data() + have * block_bytes : nullptr,
                                blocks * block_bytes, from, tag);
      if (!got.ok()) return got.status();
      auto sent = comm.post_send(data ? held.data() : nullptr, blocks * block_bytes, to, tag);
      if (!sent.ok()) return sent.status();
      sends.push_back(*sent);
      INCA_RETURN_IF_ERROR(comm.wait(*got));
      have += blocks;
    }
    INCA_RETURN_IF_ERROR(comm.wait_all(sends));
  }
  if (data && block_bytes > 0)
    for (std::size_t i = 0; i < p; ++i)
      std::memcpy(out + ((r + i) % p) * block_bytes, held.data() + i * block_bytes, block_bytes);
  return {};
}

}  // namespace inca::algorithms
