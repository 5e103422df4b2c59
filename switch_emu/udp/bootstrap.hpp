// The bootstrap of a rank process on the kernel-UDP fabric: what `inca
// launch` (or any launcher) tells each rank through environment variables,
// and how a rank reads it back. Every variable but INCA_RANK and INCA_SWITCH
// (the rank's own leaf switch) is the same for all ranks of a job.
//
// - INCA_FABRIC: `udp`, `memif` or `verbs` (a program run by a launcher checks this)
// - INCA_RANK, INCA_SIZE: this process's rank (0 .. INCA_SIZE - 1), ranks in the job
// - INCA_JOB, INCA_KEY: job id (decimal) and key tag (hex, 0x optional) of its tree
// - INCA_SWITCH: `ip:port` the rank's leaf switch takes contributions on (its
//   --ip and --udp-port)
// - INCA_PEERS: `ip:port,...`, every rank's UDP address in rank order
// - INCA_TREE: `tree:slots:slot_bytes` of the job's installed tree (absent: no tree)
// - INCA_CHILDREN: `c0,c1,...`, each rank's child index at its leaf switch
// - INCA_TIMEOUT_MS: a peer or switch silent this long fails the operation (5000)
// - INCA_FIXED_TIMEOUT_MS: retransmit after this fixed time, not an adaptive one
// - INCA_NETNS: open the rank's socket in this network namespace (the process
//   stays where it is)
// - INCA_LINK_GBPS: the NIC's line rate, when known (paces retransmission timeouts)
// - memif only: INCA_MEMIF_SOCKET, the switch port's memif socket this rank
//   connects to as a client; INCA_MACS, every rank's MAC address in rank
//   order (a rank's port takes its own; peers' are its static neighbours)
// - verbs only (docs/verbs.md): INCA_CONTROL, the rank's leaf switch's
//   control channel (each rank connects its own queue pair there; needed
//   with INCA_TREE); INCA_RENDEZVOUS, the launcher's out-of-band all-gather
//   (absent under MPI, whose program passes its own); INCA_VERBS_DEVICE,
//   device[:port[:gid_index]] (default: the first active RoCEv2 port whose
//   IPv4 GID is the rank's INCA_PEERS address, any when that is 0.0.0.0);
//   INCA_SWITCH_PORT, the switch port the rank's NIC is cabled to (default:
//   learned from its first packet)
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inca/status.hpp"
#include "manager/aggregation_manager.hpp"

namespace inca::udp {

/// Everything a rank process needs to join its job.
struct Bootstrap {
  std::string fabric = "udp";  ///< udp, memif or verbs
  std::uint32_t rank = 0;
  std::uint32_t size = 0;
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::string switch_address;      ///< ip:port
  std::vector<std::string> peers;  ///< ip:port of every rank
  /// The installed tree (tree, slots, slot_payload_bytes, members' child
  /// indices); nullopt when the job has none.
  std::optional<manager::TreePlan> tree;
  std::uint32_t timeout_ms = 5000;
  std::uint32_t fixed_timeout_ms = 0;  ///< 0: adaptive retransmission timeouts
  double link_gbps = 0;
  /// Network namespace of the rank's socket ("": the process's own). Lets
  /// ranks that must stay in one namespace (MPI's) each sit behind a veth.
  std::string netns;
  /// memif: the socket of this rank's switch port, and every rank's MAC
  /// (aa:bb:cc:dd:ee:ff) by rank; the IPv4 addresses and UDP ports are the peers'.
  std::string memif_socket;
  std::vector<std::string> macs;
  /// verbs: the switch's control channel, the launcher's rendezvous, the
  /// RDMA device selection and the rank's switch port (0xffff: learned).
  std::string control;
  std::string rendezvous;
  std::string verbs_device;
  std::uint16_t switch_port = 0xffff;
};

/// An environment variable assignment.
using EnvVar = std::pair<std::string, std::string>;

/// The variables that carry `b` (INCA_FABRIC included).
std::vector<EnvVar> to_env(const Bootstrap& b);
/// Reads the bootstrap through `getenv` (std::getenv by default);
/// invalid_argument naming the variable when one is missing or malformed.
Result<Bootstrap> bootstrap_from_env(const std::function<const char*(const char*)>& getenv = {});
/// True when a launcher of a process fabric (udp, memif, verbs) started this process.
bool launched_on_udp();

/// Parses "a.b.c.d:port"; invalid_argument when it is not one.
Result<sockaddr_in> parse_ipv4_port(std::string_view text);

}  // namespace inca::udp
