// Building blocks shared by the host algorithms: a paired exchange and the
// power-of-two fold that lets recursive algorithms run on any rank count
// (the extra ranks hand their data to a partner first, as in MPICH).
#pragma once

#include <cstddef>

#include "inca/communicator.hpp"

namespace inca::algorithms {

/// Sends `send_bytes` to `peer` and receives `recv_bytes` from it (either may be 0).
Status exchange(Communicator& comm, int peer, const void* send, std::size_t send_bytes, void* recv,
                std::size_t recv_bytes, int tag);

/// Ranks folded onto the largest power of two not above p.
struct PowerOfTwoFold {
  int pof2 = 1;     ///< participating ranks
  int rem = 0;      ///< p - pof2: ranks that fold away
  int newrank = 0;  ///< this rank's index among the pof2, or -1 when folded away

  explicit PowerOfTwoFold(int rank, int size);
  /// The real rank behind a new rank.
  int real(int new_rank) const { return new_rank < rem ? new_rank * 2 + 1 : new_rank + rem; }
};

/// Before a recursive algorithm: even ranks below 2*rem send their buffer to
/// the next rank, which reduces it in (lower rank first).
Status fold_in(Communicator& comm, const PowerOfTwoFold& fold, void* buf, std::size_t count,
               Dtype dtype, ReduceOp op, int tag);
/// After it: the odd ranks send the result back to the ranks that folded away.
Status fold_out(Communicator& comm, const PowerOfTwoFold& fold, void* buf, std::size_t bytes,
                int tag);

}  // namespace inca::algorithms
