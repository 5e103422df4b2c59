#include "algorithms/innet_collectives.hpp"

#include <cstring>
#include <vector>

namespace inca::algorithms {

Status innet_reduce(Communicator& comm, const void* send, void* recv, std::size_t count,
                    Dtype dtype, ReduceOp op, int root, bool reproducible) {
  if (count == 0) return {};
  // Only the root keeps the result: the others are answered with headers.
  const bool is_root = comm.rank() == root;
  const ElementRange kept{0, is_root ? count : 0};
  if (is_root || comm.timing_only())
    return comm.innet_allreduce(send, is_root ? recv : nullptr, count, dtype, op, reproducible, {},
                                kept);
  std::vector<std::byte> unwritten(count * dtype_size(dtype));
  return comm.innet_allreduce(send, unwritten.data(), count, dtype, op, reproducible, {}, kept);
}

Status innet_broadcast(Communicator& comm, void* buf, std::size_t bytes, int root) {
  if (bytes == 0) return {};
  // x | 0 = x, so the root's bytes come back unchanged to everyone; the
  // others hold nothing, so only the root uploads data.
  const bool is_root = comm.rank() == root;
  if (!is_root && !comm.timing_only()) std::memset(buf, 0, bytes);
  return comm.innet_allreduce(buf, buf, bytes, Dtype::u8, ReduceOp::bor, false,
                              ElementRange{0, is_root ? bytes : 0});
}

Status innet_barrier(Communicator& comm) {
  std::uint8_t token = 0;
  return comm.innet_allreduce(&token, &token, 1, Dtype::u8, ReduceOp::bor);
}

Status innet_reduce_scatter(Communicator& comm, const void* send, void* recv, std::size_t recvcount,
                            Dtype dtype, ReduceOp op, bool reproducible) {
  if (recvcount == 0) return {};
  const std::size_t block = recvcount * dtype_size(dtype);
  const std::size_t total = recvcount * static_cast<std::size_t>(comm.size());
  // Each rank is answered with data for its own block's chunks only.
  const ElementRange own{static_cast<std::size_t>(comm.rank()) * recvcount, recvcount};
  if (comm.timing_only())
    return comm.innet_allreduce(nullptr, nullptr, total, dtype, op, false, {}, own);
  std::vector<std::byte> all(total * dtype_size(dtype));
  INCA_RETURN_IF_ERROR(
      comm.innet_allreduce(send, all.data(), total, dtype, op, reproducible, {}, own));
  std::memcpy(recv, all.data() + static_cast<std::size_t>(comm.rank()) * block, block);
  return {};
}

Status innet_allgather(Communicator& comm, const void* send, void* recv, std::size_t block_bytes) {
  if (block_bytes == 0) return {};
  const std::size_t total = block_bytes * static_cast<std::size_t>(comm.size());
  if (!comm.timing_only()) {
    auto* out = static_cast<std::byte*>(recv);
    std::byte* own = out + static_cast<std::size_t>(comm.rank()) * block_bytes;
    // memmove: send may already be our own block (in place).
    std::memmove(own, send, block_bytes);
    std::memset(out, 0, own - out);
    std::memset(own + block_bytes, 0, total - (own + block_bytes - out));
  }
  // Each rank uploads its own block; the chunks of the others go header-only.
  const ElementRange own{static_cast<std::size_t>(comm.rank()) * block_bytes, block_bytes};
  return comm.innet_allreduce(recv, recv, total, Dtype::u8, ReduceOp::bor, false, own);
}

}  // namespace inca::algorithms
