#include "algorithms/p2p_steps.hpp"

#include <bit>
#include <cstring>
#include <vector>

namespace inca::algorithms {

Status exchange(Communicator& comm, int peer, const void* send, std::size_t send_bytes, void* recv,
                std::size_t recv_bytes, int tag) {
  auto r = comm.post_recv(recv, recv_bytes, peer, tag);
  if (!r.ok()) return r.status();
  auto s = comm.post_send(send, send_bytes, peer, tag);
  if (!s.ok()) return s.status();
  Status sent = comm.wait(*s);
  Status received = comm.wait(*r);
  return sent.ok() ? received : sent;
}

PowerOfTwoFold::PowerOfTwoFold(int rank, int size) {
  pof2 = static_cast<int>(std::bit_floor(static_cast<unsigned>(size)));
  rem = size - pof2;
  if (rank < 2 * rem)
    newrank = rank % 2 == 0 ? -1 : rank / 2;
  else
    newrank = rank - rem;
}

Status fold_in(Communicator& comm, const PowerOfTwoFold& fold, void* buf, std::size_t count,
               Dtype dtype, ReduceOp op, int tag) {
  const int rank = comm.rank();
  if (rank >= 2 * fold.rem) return {};
  const std::size_t bytes = count * dtype_size(dtype);
  if (rank % 2 == 0) {
    auto s = comm.post_send(buf, bytes, rank + 1, tag);
    return s.ok() ? comm.wait(*s) : s.status();
  }
  std::vector<std::byte> lower(comm.timing_only() ? 0 : bytes);
  auto r = comm.post_recv(comm.timing_only() ? nullptr : lower.data(), bytes, rank - 1, tag);
  if (!r.ok()) return r.status();
  INCA_RETURN_IF_ERROR(comm.wait(*r));
  // Lower rank first, so the fold is the same left-to-right order everywhere.
  if (!comm.timing_only()) {
    comm.reduce_local(lower.data(), buf, count, dtype, op);
    std::memcpy(buf, lower.data(), bytes);
  } else {
    comm.reduce_local(nullptr, nullptr, count, dtype, op);
  }
  return {};
}

Status fold_out(Communicator& comm, const PowerOfTwoFold& fold, void* buf, std::size_t bytes,
                int tag) {
  const int rank = comm.rank();
  if (rank >= 2 * fold.rem) return {};
  if (rank % 2 == 1) {
    auto s = comm.post_send(buf, bytes, rank - 1, tag);
    return s.ok() ? comm.wait(*s) : s.status();
  }
  auto r = comm.post_recv(buf, bytes, rank + 1, tag);
  return r.ok() ? comm.wait(*r) : r.status();
}

}  // namespace inca::algorithms
