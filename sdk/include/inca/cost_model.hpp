// Closed-form predictions of collective times on a fabric, the `model_us`
// column of `inca bench`. docs/model.md derives each formula; every timing
// element of a fabric description enters them: per-link rates and latencies,
// switch forwarding and aggregation (ALU) costs, host per-message overheads
// (LogGP o and g) and host reduction speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inca/time.hpp"

namespace inca {

/// What one message pays on a route: the slowest link carries all of it (at
/// its rate divided among the flows that share it), every other link stores
/// and forwards one packet, and every link and switch passed adds its latency.
struct ModelPath {
  double links = 2;              ///< links on the route (the mean, for the ring's neighbours)
  double flow_ps_per_byte = 80;  ///< the bottleneck: ps per byte x flows sharing it
  double store_forward_ps_per_byte = 80;  ///< sum over the other links of ps per byte
  double fixed_ps = 1e6;                  ///< link latencies + forwarding latencies passed

  /// `links` links of `gbps` and `latency` each, with `sharing` flows on the
  /// busiest one and `forwarding` at each of the links - 1 switches.
  static ModelPath uniform(double links, double gbps, Time latency, std::uint32_t sharing = 1,
                           Time forwarding = 0);
  /// Picoseconds for a message of m payload bytes in packets of at most
  /// `payload` bytes with `overhead` bytes each (an empty message is one packet).
  double crossing(std::size_t m, std::size_t payload, std::size_t overhead) const;
};

/// Where a flow's packets wait (docs/model.md, "Shared links are FIFO
/// queues"): at the link it shares with the most flows (its bottleneck),
/// paced in by the links before it, and then at every later link of its
/// route in turn (`hops`, from a topology), or, without hops (hand-made
/// steps, Bruck's all-gather), at the bottleneck alone with what the links
/// after it add. The sum of the three *_ps_per_byte sums is the path's
/// store_forward_ps_per_byte.
struct ModelQueue {
  /// One link of the route, from the bottleneck to the receiver's link: its
  /// queue (1 + the link direction's index), rate, and the latency and
  /// forwarding its packets pay after leaving it.
  struct Hop {
    std::uint64_t link = 0;
    double ps_per_byte = 0;
    double latency_ps = 0;
  };
  /// The links of the route from the bottleneck on, each a FIFO queue the
  /// message's packets pass in turn; empty: the single queue below.
  std::vector<Hop> hops = {};
  /// 1 + the link direction's index on the topology; 0: not known (hand-made
  /// steps), and the flow pays its static share of `ModelPath::flow_ps_per_byte`.
  std::uint64_t link = 0;
  double ps_per_byte = 0;  ///< the link's own rate, not divided among flows
  /// The slowest link before it, which paces the packets into the queue; 0
  /// when the queue is the sender's own NIC (the whole message is there at once).
  double feed_ps_per_byte = 0;
  double upstream_ps_per_byte = 0;  ///< sum over the links before it
  double upstream_fixed_ps = 0;     ///< their latencies and forwarding
  double between_ps_per_byte = 0;   ///< sum over the links after it but the last
  double last_ps_per_byte = 0;      ///< the receiver's link; 0 when the queue's link is it
};

/// One step of an exchange pattern: every participating rank sends to one
/// partner at once. `links` is the longest path, `sharing` the most flows on
/// one link direction; `path` what the slowest flow pays (docs/model.md).
struct ExchangeStep {
  std::uint32_t links = 2;
  std::uint32_t sharing = 1;
  ModelPath path;
  /// Every flow: sender, receiver and what it pays. When present, a rank
  /// goes on as soon as its own flows are done (the critical path through
  /// the steps), not when the step's slowest flow is; empty: all pay `path`.
  struct Flow {
    std::uint32_t from = 0, to = 0;
    ModelPath path;
    ModelQueue queue = {};
    ModelQueue reverse_queue = {};  ///< the queues from receiver to sender
  };
  std::vector<Flow> flows = {};
};

/// What a host pays per message and per reduced byte (the worst host's).
struct ModelHost {
  Time send_overhead = 0;  ///< LogGP o, sending
  Time recv_overhead = 0;  ///< LogGP o, receiving
  Time gap = 0;            ///< LogGP g
  double reduce_gbps = 0;  ///< host reduction speed; 0: free
  /// Least time between two messages sent / taken in: max(o, g).
  Time send_interval() const { return send_overhead > gap ? send_overhead : gap; }
  Time recv_interval() const { return recv_overhead > gap ? recv_overhead : gap; }
  /// Picoseconds to reduce `bytes` (gamma x bytes).
  double compute(std::size_t bytes) const;
};

/// One level of an aggregation tree, from the switches next to the hosts
/// (level 0) to the root: the worst of its switches and of the links below them.
struct ModelTreeLevel {
  std::uint32_t children = 1;    ///< most contributions one switch aggregates per chunk
  double up_ps_per_byte = 80;    ///< slowest link from a child up to the level
  double down_ps_per_byte = 80;  ///< slowest link from the level down to a child
  Time up_latency = 0;           ///< largest latency of those links, each way
  Time down_latency = 0;
  Time forwarding = 0;           ///< the level's forwarding latency
  Time aggregation_latency = 0;  ///< the level's ALU latency per contribution
  double alu_ps_per_byte = 0;    ///< ALU time per payload byte (0: unlimited)
  Time alu_ps_per_packet = 0;    ///< ALU time per contribution (0: unlimited)
  /// Trees that stream over one link of this level at once (the two-tier
  /// all-reduce's shard trees): each gets that share of the link's rate in
  /// the pipeline's steady gap. 1 for a tree alone.
  std::uint32_t sharing = 1;
  /// ALU occupancy of one contribution of `payload` bytes.
  double alu(std::size_t payload) const;
};

/// What the two-tier all-reduce needs to know of a fabric with scale-up
/// domains (docs/model.md, "Two-tier all-reduce"): which domain each rank is
/// in, and the trees of its two tiers as the aggregation manager builds them.
struct ModelTwoTier {
  /// Domain of each rank, numbered in order of first appearance; empty when
  /// some rank has no scale-up (domain) switch.
  std::vector<std::uint32_t> rank_domain;
  std::uint32_t domains = 0;
  std::uint32_t domain_ranks = 0;  ///< ranks in every domain; 0 when they differ
  /// The first domain's tree, on its domain switch; empty when none fits.
  std::vector<ModelTreeLevel> domain_tree;
  std::size_t domain_payload = 0;  ///< its payload per packet
  std::uint32_t domain_window = 0;
  /// The tree of shard 0 (rank 0 of every domain), off the domain switches;
  /// empty with one domain or when none fits.
  std::vector<ModelTreeLevel> shard_tree;
  std::size_t shard_payload = 0;
  std::uint32_t shard_window = 0;
};

/// The fabric quantities the formulas need (World::model_fabric()).
struct ModelFabric {
  std::uint32_t ranks = 1;
  std::size_t packet_overhead = 0;  ///< header + framing bytes per packet
  std::size_t p2p_payload = 0;      ///< payload per point-to-point packet
  std::size_t slot_payload = 0;     ///< payload per aggregation packet
  /// Point-to-point sends up to this size complete when sent; larger ones
  /// when their acknowledgement is back (RecoveryOptions::eager_bytes).
  std::size_t eager_bytes = 64 * 1024;
  std::uint32_t window = 1;      ///< aggregation slots in flight per host
  std::uint32_t tree_links = 0;  ///< links from a host up to the tree's root
  /// Ranks per host group of "hierarchical" (0: kDefaultHierarchicalGroup).
  std::uint32_t group = 0;
  ModelHost host;
  /// The tree's levels, leaves first (empty without a tree).
  std::vector<ModelTreeLevel> tree;
  /// Ring neighbours r -> r+1: mean links, fixed and store-and-forward
  /// costs, and the slowest pair's bottleneck (the ring moves at its pace).
  ModelPath ring;
  /// Recursive doubling / halving: step k pairs new ranks differing in bit k.
  std::vector<ExchangeStep> xor_steps;
  /// The non-power-of-two fold: ranks 2i and 2i+1 for i < p - pof2.
  ExchangeStep fold_step;
  /// Binomial tree: step k pairs rank r (bit k set, lower bits clear) with r - 2^k.
  std::vector<ExchangeStep> binomial_steps;
  /// Bruck's all-gather: in step k every rank r sends to r - 2^k (mod p).
  std::vector<ExchangeStep> bruck_steps;
  /// Scale-up domains and the two-tier all-reduce's trees.
  ModelTwoTier two_tier;

  /// One message of m payload bytes on `path`: posted (o), carried, taken in (o).
  double message(const ModelPath& path, std::size_t m) const;
  /// What a sender that waits for its send to complete pays beyond message():
  /// the acknowledgement's way back when m is above eager_bytes.
  double acknowledgement(const ModelPath& path, std::size_t m) const;

  /// A tree of `levels` levels over links of `gbps` and `latency` whose
  /// switches aggregate `children` contributions each (leaves first).
  static std::vector<ModelTreeLevel> uniform_tree(const std::vector<std::uint32_t>& children,
                                                  double gbps, Time latency);
};

/// Predicted time of `algorithm` ("ring", "innet", "recursive_doubling",
/// "rabenseifner", "binomial_tree", "hierarchical", "innet_quantized",
/// "two_tier")
/// reducing `bytes` of elements of `elem_size` bytes; nullopt for algorithms
/// without a model.
std::optional<Time> model_allreduce(const std::string& algorithm, const ModelFabric& fabric,
                                    std::size_t bytes, std::size_t elem_size);

/// The in-network pipeline's parts for `bytes`: the first chunk's round
/// trip, the steady gap between chunks and what bounds it ("link", "alu",
/// "host", "window").
struct InnetTiming {
  double round_trip_ps = 0;
  double gap_ps = 0;  ///< between chunks once the pipeline is full
  /// When the last chunk leaves after the first: the stages' pace for the
  /// first W chunks, then one round trip per W chunks when the window binds.
  double last_start_ps = 0;
  std::size_t chunks = 0;
  const char* bound = "link";
};
InnetTiming model_innet(const ModelFabric& fabric, std::size_t bytes, std::size_t elem_size);

}  // namespace inca
