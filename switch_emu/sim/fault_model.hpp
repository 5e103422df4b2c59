// The fault plan of a simulated fabric, resolved to directed links and switch
// nodes. It decides, from a seeded generator per link direction, what happens
// to each packet a link carries (lost, corrupted, duplicated, held back) and
// answers whether a link or switch is up at a given time. The simulator calls
// it from a few hooks; with an empty plan it is never constructed, so a
// fault-free run costs nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "inca/faults.hpp"
#include "inca/status.hpp"
#include "inca/time.hpp"
#include "sim/held_packets.hpp"
#include "topology/topology.hpp"
#include "wire/packet.hpp"

namespace inca::sim {

class FaultModel {
 public:
  /// invalid_argument when the plan names an unknown node, a link that does
  /// not exist, a switch outage on a host, or a probability outside [0, 1].
  static Result<std::unique_ptr<FaultModel>> create(const topology::Topology& topology,
                                                    const FaultPlan& plan);

  /// What happens to one packet put on a link.
  struct Fate {
    bool lost = false;         ///< never arrives: dropped, or corrupted and caught by the CRC
    Time extra_delay = 0;      ///< > 0: held back this long past its FIFO arrival
    bool duplicate = false;    ///< a copy arrives as well ...
    Time duplicate_delay = 0;  ///< ... this long after the original's FIFO arrival
  };
  /// Decides the fate of `packet` leaving `node` by `port` at `now`. An
  /// undetected corruption rewrites the packet in place.
  Fate on_send(std::uint32_t node, std::uint16_t port, Time now, wire::Packet& packet);
  /// Whether a packet that crossed (node, port) reaches `peer` at `now`: the
  /// link is up and neither end is a dead switch. Counts the losses.
  bool on_arrival(std::uint32_t node, std::uint16_t port, std::uint32_t peer, Time now);

  bool node_up(std::uint32_t node, Time t) const;
  bool link_up(std::uint32_t node, std::uint16_t port, Time t) const;
  /// How many times switch `node` died at or before `t`; its engine state is
  /// lost each time.
  std::uint32_t deaths(std::uint32_t node, Time t) const;
  void count_state_loss() { ++counters_.switch_state_losses; }

  /// Packets taken off their link's FIFO (held back, or duplicate copies)
  /// wait here until their own arrival event.
  std::uint32_t hold(wire::Packet&& packet) { return held_.hold(std::move(packet)); }
  wire::Packet release(std::uint32_t id) { return held_.release(id); }
  /// Takes over the packets `old` still holds (a plan replaced mid-flight).
  void take_held(FaultModel&& old) { held_ = std::move(old.held_); }

  const FaultCounters& counters() const { return counters_; }

 private:
  struct Interval {
    Time from;
    Time until;
  };
  struct LinkState {
    LinkFaults faults;
    std::mt19937_64 rng;
    std::vector<Interval> outages;
  };

  FaultModel() = default;
  LinkState& link(std::uint32_t node, std::uint16_t port) {
    return links_[first_port_[node] + port];
  }
  const LinkState& link(std::uint32_t node, std::uint16_t port) const {
    return links_[first_port_[node] + port];
  }
  /// True when the receiver's decode catches the flipped bits.
  bool corrupt(wire::Packet& packet, std::mt19937_64& rng);

  std::vector<std::size_t> first_port_;           // node -> index of its port 0 in links_
  std::vector<LinkState> links_;                  // one per link direction
  std::vector<std::vector<Interval>> node_down_;  // switch outages by node
  HeldPackets held_;
  FaultCounters counters_;
};

}  // namespace inca::sim
