// A UDP- or verbs-fabric job launched by Open MPI instead of `inca launch`:
// MPI finds the ranks and exchanges their addresses (and, for verbs, their
// queue pairs), rank 0 installs the tree on the switch, and then the rank
// code is the Communicator's, as everywhere.
//
//   mpirun -np 4 build/bin/example_mpi_allreduce --fabric udp --switch 10.77.0.254:4792
//          --control 127.0.0.1:7000
//   mpirun -np 4 -H a,b,c,d build/bin/example_mpi_allreduce --fabric verbs
//          --switch 192.168.10.254:4791 --control 10.0.0.9:7000
//
// (docs/fabrics.md, "Open MPI bootstrap", and docs/verbs.md have the options.)
#include <mpi.h>

#include <cstdio>
#include <vector>

#include "inca/communicator.hpp"
#include "inca/process_world.hpp"
#include "udp/mpi/mpi_bootstrap.hpp"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int failures = 0;
  auto options = inca::udp::parse_mpi_bootstrap_args(argc, argv);
  inca::Status status =
      options.ok() ? inca::udp::mpi_bootstrap(MPI_COMM_WORLD, *options) : options.status();
  if (status.ok()) {
    auto world = inca::ProcessWorld::from_env(inca::udp::mpi_allgather(MPI_COMM_WORLD));
    status = world.ok() ? (*world)->run([&](inca::Communicator& comm) {
      // Rank r contributes r + 1 in every element: the sum is n (n + 1) / 2.
      const int n = comm.size();
      std::vector<std::int32_t> send(100000, comm.rank() + 1), recv(send.size());
      for (const char* algorithm : {"innet", "ring"}) {
        inca::Status s = comm.allreduce(send.data(), recv.data(), send.size(), inca::Dtype::i32,
                                        inca::ReduceOp::sum, {.algorithm = algorithm});
        bool exact = s.ok();
        for (std::size_t i = 0; exact && i < recv.size(); ++i) exact = recv[i] == n * (n + 1) / 2;
        failures += exact ? 0 : 1;
        std::printf("rank %d: %s %s\n", comm.rank(), algorithm,
                    exact    ? "exact"
                    : s.ok() ? "inexact"
                             : s.to_string().c_str());
      }
    })
                        : world.status();
  }
  // Frees the job's slots on the switch for the next job.
  if (options.ok()) {
    const inca::Status released = inca::udp::mpi_release(MPI_COMM_WORLD, *options);
    if (status.ok()) status = released;
  }
  if (!status.ok()) std::fprintf(stderr, "failed: %s\n", status.to_string().c_str());
  MPI_Finalize();
  return status.ok() && failures == 0 ? 0 : 1;
}
