// The endpoint configuration of one host, as every fabric derives it from the
// world's template: the host's rank and fabric address, and the address of
// every rank (host index h has address h in every fabric built on a topology).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "protocol/host_endpoint.hpp"
#include "topology/topology.hpp"

namespace inca::fabric {

/// Host index h's address is h: the table of every host's, which a fabric
/// builds once and its hosts' endpoints share.
inline protocol::AddressTable host_addresses(const topology::Topology& topology) {
  std::vector<wire::Address> addresses(topology.host_count());
  std::iota(addresses.begin(), addresses.end(), wire::Address{0});
  return addresses;
}

/// `base` with host's rank and address; its table of every host's address
/// when it holds one for this topology (shared: host_addresses()), else a
/// new one.
inline protocol::EndpointConfig host_endpoint_config(const protocol::EndpointConfig& base,
                                                     const topology::Topology& topology,
                                                     std::uint32_t host) {
  protocol::EndpointConfig config = base;
  config.rank = host;
  config.address = host;
  if (config.rank_address.size() != topology.host_count())
    config.rank_address = host_addresses(topology);
  // What the host's own NIC drains at, and what each
  // message adds in its own send and receive queues.
  const HostTiming& timing = topology.node(topology.host_node(host)).host_timing;
  config.message_drain =
      std::max(timing.send_overhead, timing.gap) + std::max(timing.recv_overhead, timing.gap);
  // A host with several ports (NVLink beside an InfiniBand NIC) drains at its
  // slowest: its outstanding bytes are counted together, and a queue for the
  // slow port taken at the fast port's rate would time out while it drains
  // (a retransmission storm on the gb300 preset's flat ring, 256 KiB chunks).
  config.nic_gbps = 0;
  for (const topology::Port& p : topology.node(topology.host_node(host)).ports)
    if (p.peer_node != topology::kUnconnected)
      config.nic_gbps = config.nic_gbps > 0 ? std::min(config.nic_gbps, p.link.gbps) : p.link.gbps;
  return config;
}

}  // namespace inca::fabric
