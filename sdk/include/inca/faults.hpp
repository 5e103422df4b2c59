// Faults and recovery. A FaultPlan describes what goes wrong on a simulated
// fabric (lost, duplicated, reordered and corrupted packets, links and
// switches that go down and come back); RecoveryOptions say how hard the
// protocol tries before it gives up and what the runtime does when a switch
// of a tree dies. docs/reliability.md explains both and the time bounds that
// follow from them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inca/time.hpp"

namespace inca {

/// Random faults of the packets crossing one direction of a link. Each is a
/// probability per packet, drawn from the link's own seeded generator.
struct LinkFaults {
  double drop = 0;       ///< the packet is lost
  double duplicate = 0;  ///< a copy arrives as well, up to reorder_delay later
  double reorder = 0;    ///< the packet is held back and overtaken by the ones behind it
  Time reorder_delay = 20 * kPicosPerMicro;  ///< largest extra delay of a held packet
  double corrupt = 0;  ///< 1 to 3 bits flip; the receiver's CRC-32 check drops the packet

  /// Any probability set (a bad one too: validation then rejects it).
  bool any() const { return drop != 0 || duplicate != 0 || reorder != 0 || corrupt != 0; }
};

/// Faults of every link touching one node (both directions), by node name
/// ("leaf0", "spine1", "host3"): a flaky switch or NIC.
struct NodeFaults {
  std::string node;
  LinkFaults faults;
};

/// Faults of the link between nodes `a` and `b` (both directions).
struct LinkFaultRule {
  std::string a;
  std::string b;
  LinkFaults faults;
};

/// The link between `a` and `b` is down (both directions) from `down_at`
/// until `up_at`: packets sent on it, or still on it, are lost.
struct LinkOutage {
  std::string a;
  std::string b;
  Time down_at = 0;
  Time up_at = kNever;
};

/// Switch `name` dies at `down_at`: packets to and from it are lost and its
/// aggregation state (installed trees, slots) is gone. It restarts empty at
/// `up_at`, and the manager must install trees on it again.
struct SwitchOutage {
  std::string name;
  Time down_at = 0;
  Time up_at = kNever;
};

/// Everything that goes wrong on a fabric. Times are fabric time (virtual
/// time since the world was created). The most specific rule wins: a link
/// rule, then a node rule of the sending node, then of the receiving node,
/// then every_link. Equal plans and seeds give identical runs.
struct FaultPlan {
  std::uint64_t seed = 1;
  LinkFaults every_link;
  std::vector<NodeFaults> nodes;
  std::vector<LinkFaultRule> links;
  std::vector<LinkOutage> link_outages;
  std::vector<SwitchOutage> switch_outages;

  bool empty() const {
    return !every_link.any() && nodes.empty() && links.empty() && link_outages.empty() &&
           switch_outages.empty();
  }
};

/// What a fault plan did, and what receivers caught.
struct FaultCounters {
  std::uint64_t dropped = 0;              ///< packets lost at random
  std::uint64_t duplicated = 0;           ///< extra copies delivered
  std::uint64_t reordered = 0;            ///< packets held back
  std::uint64_t corrupted = 0;            ///< packets whose bits were flipped
  std::uint64_t corrupt_detected = 0;     ///< of those, dropped by the receiver's decode
  std::uint64_t corrupt_undetected = 0;   ///< of those, decoded anyway (never expected)
  std::uint64_t link_down_drops = 0;      ///< packets lost on a link that was down
  std::uint64_t switch_down_drops = 0;    ///< packets lost to or from a dead switch
  std::uint64_t switch_state_losses = 0;  ///< times a switch came back without its state
};

/// What the runtime does when an in-network collective fails because a
/// switch or link of its tree stopped answering.
enum class SwitchFailurePolicy : std::uint8_t {
  reform,    ///< re-form the tree around dead switches and links, re-run in-network
  fallback,  ///< re-run with a host algorithm (ring)
  error,     ///< return the error; later collectives use the re-formed tree
};
std::string_view to_string(SwitchFailurePolicy policy);
std::optional<SwitchFailurePolicy> parse_switch_failure_policy(std::string_view name);

/// Retransmission and recovery knobs (docs/reliability.md has the bounds).
/// A time of 0 picks the fabric's default: virtual time is exact, while live
/// threads on a loaded machine can stall for milliseconds.
struct RecoveryOptions {
  /// Estimate the retransmission timeout from measured round trips (RFC
  /// 6298, Karn's rule), between min_timeout and FabricOptions::retransmit_timeout
  /// (the first timeout, before any measurement). Off: always the first timeout.
  bool adaptive_timeout = true;
  Time min_timeout = 0;  ///< 0: 5 us on sim, 1 ms on live
  /// The timeout doubles at each expiry of one chunk or message, up to
  /// 2^max_backoff_shift times its base.
  std::uint32_t max_backoff_shift = 3;
  /// An operation whose chunk or message got no answer for this long since it
  /// was first sent fails with `timeout`; also the longest time ranks may
  /// enter one collective apart. 0: 100 ms on sim, 5 s on live.
  Time failure_timeout = 0;
  /// ... or after this many retransmissions of one chunk or message.
  std::uint32_t max_retransmits = 100000;
  /// Point-to-point sends up to this many bytes complete as soon as they are
  /// handed to the fabric, as MPI's eager protocol: the sender keeps its copy
  /// and retransmits it until acknowledged, and a loss it cannot repair
  /// shows as the receiver's timeout. Larger sends complete when every
  /// fragment was acknowledged, so the sender hears of such a loss too.
  std::uint32_t eager_bytes = 64 * 1024;
  SwitchFailurePolicy on_switch_failure = SwitchFailurePolicy::reform;
  /// Re-runs of one collective after failures before its error is returned.
  std::uint32_t max_reruns = 2;
  /// How long ranks wait for every rank's outcome of a failed collective
  /// before they give up on re-running it. 0: twice failure_timeout.
  Time agreement_timeout = 0;
};

}  // namespace inca
