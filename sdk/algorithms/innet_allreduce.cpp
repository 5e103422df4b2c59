#include "algorithms/innet_allreduce.hpp"

#include "inca/communicator.hpp"

namespace inca::algorithms {

Status innet_allreduce(Communicator& comm, const AllreduceArgs& args) {
  return comm.innet_allreduce(args.send, args.recv, args.count, args.dtype, args.op,
                              args.reproducible, args.held, args.kept);
}

}  // namespace inca::algorithms
