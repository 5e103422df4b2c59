// Open MPI as the launcher of a UDP- or verbs-fabric job: `mpirun -np N
// PROGRAM --fabric udp|verbs --switch IP:PORT [--control IP:PORT]`. The
// ranks find their own addresses (the source address toward the switch:
// for verbs, the RDMA NIC's), exchange them with mpi_allgather, rank 0
// installs the job's tree over the switch's control channel and broadcasts
// it, and every rank gets the INCA_* bootstrap environment
// (udp/bootstrap.hpp), so the rank program then joins with
// inca::ProcessWorld::from_env(mpi_allgather(comm)) as under `inca launch`
// (verbs ranks swap their queue pairs over it). Built only where CMake finds
// MPI (target inca_udp_mpi).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "inca/out_of_band.hpp"
#include "inca/status.hpp"

namespace inca::udp {

struct MpiBootstrapOptions {
  std::string fabric = "udp";   ///< --fabric: udp or verbs
  std::string switch_address;   ///< --switch: the switch's data path, ip:port
  std::string control_address;  ///< --control: its control channel ("": no tree)
  /// --ports: the switch port of each rank (default: port r for rank r).
  std::vector<std::uint16_t> ports;
  std::uint32_t slots = 64;          ///< --window: the tree's slots (chunks in flight)
  std::uint32_t slot_bytes = 1024;   ///< --slot-bytes
  std::uint32_t switch_slots = 512;  ///< --switch-slots: the switch's pool
  std::uint32_t timeout_ms = 5000;   ///< --timeout-ms
  /// --netns-prefix: rank r opens its socket in network namespace
  /// <prefix><r> (all ranks on one machine, each behind its own veth).
  std::string netns_prefix;
};

/// Reads the options from the program's arguments (`--fabric udp|verbs` required,
/// the others as named above); invalid_argument naming a bad one. Arguments
/// it does not know are left to the program.
Result<MpiBootstrapOptions> parse_mpi_bootstrap_args(int argc, char** argv);

/// Collective over `comm` (after MPI_Init): sets this rank's INCA_*
/// environment. Every rank returns the same verdict: rank 0's failure to
/// install the tree is no error (in-network collectives then report
/// no_tree); an address that cannot be found on any rank is.
Status mpi_bootstrap(MPI_Comm comm, const MpiBootstrapOptions& options);

/// The out-of-band all-gather on `comm`: every rank's bytes, in rank order
/// (MPI_Allgather of the sizes, then MPI_Allgatherv). Collective per call.
OutOfBandAllgather mpi_allgather(MPI_Comm comm);

/// Collective, once the rank programs are done: rank 0 removes the job's tree
/// from the switch, so that its slots are free for the next job. Rank 0
/// returns the switch's verdict, the others ok.
Status mpi_release(MPI_Comm comm, const MpiBootstrapOptions& options);

}  // namespace inca::udp
