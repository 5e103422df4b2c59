#include "custom_algorithm/star_allreduce.hpp"

#include <cstring>
#include <vector>

#include "inca/communicator.hpp"

namespace example {

inca::Status star_allreduce(inca::Communicator& comm, const inca::AllreduceArgs& a) {
  const std::size_t bytes = a.count * inca::dtype_size(a.dtype);
  // In payload-free mode buffers are null: move sizes, reduce nothing.
  const bool data = !comm.timing_only();
  if (data && a.send != a.recv && bytes > 0) std::memcpy(a.recv, a.send, bytes);
  const int tag = 1;  // user algorithms use user tags (0 .. kMaxUserTag)
  if (comm.rank() != 0) {
    if (inca::Status s = comm.send(a.recv, bytes, 0, tag); !s.ok()) return s;
    return comm.recv(a.recv, bytes, 0, tag);
  }
  std::vector<std::byte> incoming(data ? bytes : 0);
  for (int peer = 1; peer < comm.size(); ++peer) {
    if (inca::Status s = comm.recv(data ? incoming.data() : nullptr, bytes, peer, tag); !s.ok())
      return s;
    comm.reduce_local(a.recv, data ? incoming.data() : nullptr, a.count, a.dtype, a.op);
  }
  for (int peer = 1; peer < comm.size(); ++peer)
    if (inca::Status s = comm.send(a.recv, bytes, peer, tag); !s.ok()) return s;
  return {};
}

inca::Status innet_or_star_allreduce(inca::Communicator& comm, const inca::AllreduceArgs& a) {
  if (comm.innet_available()) {
    inca::Status s = comm.innet_allreduce(a.send, a.recv, a.count, a.dtype, a.op, a.reproducible);
    // Every rank sees the same not_supported (the pair is checked before
    // anything is sent), so all of them take the host path together.
    if (s.code() != inca::StatusCode::not_supported) return s;
  }
  return star_allreduce(comm, a);
}

int register_example_algorithms() {
  int failed = 0;
  failed += !inca::register_allreduce({.name = "star",
                                       .description = "example: gather to rank 0, send back",
                                       .uses_switches = false,
                                       .run = star_allreduce})
                 .ok();
  failed += !inca::register_allreduce({.name = "innet_or_star",
                                       .description = "example: switch all-reduce, else star",
                                       .uses_switches = true,
                                       .run = innet_or_star_allreduce})
                 .ok();
  return failed;
}

}  // namespace example
