#include "algorithms/rabenseifner_allreduce.hpp"

#include <cstring>
#include <vector>

#include "algorithms/p2p_steps.hpp"

namespace inca::algorithms {

Status rabenseifner_allreduce(Communicator& comm, const AllreduceArgs& a) {
  const std::size_t esize = dtype_size(a.dtype);
  const std::size_t bytes = a.count * esize;
  const bool data = !comm.timing_only();
  if (data && a.send != a.recv && bytes > 0) std::memcpy(a.recv, a.send, bytes);
  if (comm.size() == 1 || a.count == 0) return {};
  const int tag = Communicator::kCollectiveTag + 2;
  const PowerOfTwoFold fold(comm.rank(), comm.size());
  INCA_RETURN_IF_ERROR(fold_in(comm, fold, a.recv, a.count, a.dtype, a.op, tag));

  if (fold.newrank >= 0) {
    const int pof2 = fold.pof2;
    auto* buf = static_cast<std::byte*>(a.recv);
    std::vector<std::byte> tmp(data ? bytes : 0);
    // Block i of pof2 near-equal blocks: counts and element offsets.
    std::vector<std::size_t> cnts(pof2), disps(pof2);
    for (int i = 0, at = 0; i < pof2; ++i) {
      cnts[i] = a.count / pof2 + (static_cast<std::size_t>(i) < a.count % pof2 ? 1 : 0);
      disps[i] = static_cast<std::size_t>(at);
      at += static_cast<int>(cnts[i]);
    }
    auto sum = [&](int from, int to) {
      std::size_t n = 0;
      for (int i = from; i < to; ++i) n += cnts[i];
      return n;
    };
    auto at = [&](std::byte* base, int block) {
      return data ? base + disps[block] * esize : nullptr;
    };

    // Reduce-scatter by recursive halving: each round keeps half the blocks.
    int mask = 1, send_idx = 0, recv_idx = 0, last_idx = pof2;
    while (mask < pof2) {
      const int newdst = fold.newrank ^ mask;
      std::size_t send_cnt, recv_cnt;
      if (fold.newrank < newdst) {
        send_idx = recv_idx + pof2 / (mask * 2);
        send_cnt = sum(send_idx, last_idx);
        recv_cnt = sum(recv_idx, send_idx);
      } else {
        recv_idx = send_idx + pof2 / (mask * 2);
        send_cnt = sum(send_idx, recv_idx);
        recv_cnt = sum(recv_idx, last_idx);
      }
      INCA_RETURN_IF_ERROR(exchange(comm, fold.real(newdst), at(buf, send_idx), send_cnt * esize,
                                    at(tmp.data(), recv_idx), recv_cnt * esize, tag));
      comm.reduce_local(at(buf, recv_idx), at(tmp.data(), recv_idx), recv_cnt, a.dtype, a.op);
      send_idx = recv_idx;
      mask <<= 1;
      if (mask < pof2) last_idx = recv_idx + pof2 / mask;
    }
    // All-gather by recursive doubling: the halving in reverse.
    mask >>= 1;
    while (mask > 0) {
      const int newdst = fold.newrank ^ mask;
      std::size_t send_cnt, recv_cnt;
      if (fold.newrank < newdst) {
        if (mask != pof2 / 2) last_idx = last_idx + pof2 / (mask * 2);
        recv_idx = send_idx + pof2 / (mask * 2);
        send_cnt = sum(send_idx, recv_idx);
        recv_cnt = sum(recv_idx, last_idx);
      } else {
        recv_idx = send_idx - pof2 / (mask * 2);
        send_cnt = sum(send_idx, last_idx);
        recv_cnt = sum(recv_idx, send_idx);
      }
      INCA_RETURN_IF_ERROR(exchange(comm, fold.real(newdst), at(buf, send_idx), send_cnt * esize,
                                    at(buf, recv_idx), recv_cnt * esize, tag));
      if (fold.newrank > newdst) send_idx = recv_idx;
      mask >>= 1;
    }
  }
  return fold_out(comm, fold, a.recv, bytes, tag);
}

}  // namespace inca::algorithms
