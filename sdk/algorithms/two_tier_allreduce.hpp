// Two-tier in-network all-reduce, as a GB300 NVL72 cluster runs it: on a
// fabric whose hosts sit in scale-up domains (an NVLink switch per rack,
// which reduces in-switch) beside a scale-out InfiniBand fabric (whose
// switches reduce too), with m ranks in each of D domains:
//   1. reduce-scatter inside each domain, in the domain switch: an in-network
//      reduction over the domain's tree (rooted on the domain switch, through
//      the hosts' NVLink ports); rank i keeps shard i;
//   2. an in-network all-reduce of each shard across the domains, on the
//      scale-out switches: one tree per shard, over rank i of every domain;
//   3. an all-gather inside the domain through the domain switch, which
//      multicasts the assembled buffer down to every rank.
// Each NIC then carries 1/m of the buffer; the domain switch carries the rest
// at NVLink rates. Steps 1 and 3 use the switch primitive, the in-network
// all-reduce: in step 1 each rank is answered with data for its shard's
// chunks and with headers for the rest, and step 3 is a bitwise-or
// all-reduce of u32 words in which each rank uploads only its shard's chunks
// and a header for each other chunk.
// On full-duplex links each costs the time of NVLink SHARP's reduce-scatter
// and multicast all-gather (one buffer up, one down).
// Its prepare() splits the communicator into domains and shards once.
// Cost: docs/model.md, "Two-tier all-reduce".
#pragma once

#include <cstdint>
#include <memory>

#include "inca/algorithm.hpp"
#include "inca/caps.hpp"
#include "inca/communicator.hpp"

namespace inca::algorithms {

/// The window (slots per switch) of each shard's tree: the m shard trees
/// that cross a leaf share one window's worth of its slots, as each carries
/// 1/m of the buffer. At least 1.
std::uint32_t two_tier_shard_window(std::uint32_t window, std::uint32_t domain_ranks);

/// What prepare() leaves in Communicator::algorithm_state("two_tier").
struct TwoTierState {
  bool ready = false;  ///< false while prepare() is still splitting
  std::uint32_t domains = 0;
  std::uint32_t domain_ranks = 0;        ///< m
  std::uint32_t index = 0;               ///< this rank's index in its domain: its shard
  std::unique_ptr<Communicator> domain;  ///< this rank's domain (null when m = 1)
  std::unique_ptr<Communicator> shard;   ///< rank `index` of every domain (null when D = 1)
  /// Whether every domain's and every shard's tree exists (agreed by every
  /// rank alike), and what all of them aggregate.
  Status switch_status;
  SwitchCaps switch_caps = SwitchCaps::none();
};

/// Splits `comm` into its domains and shards on first use. Errors:
/// not_supported without scale-up domains, with domains of unequal sizes,
/// or on a communicator that is not a World's (the domains come from its
/// fabric model); a split's error, on every rank alike.
Status two_tier_prepare(Communicator& comm);

/// One attempt. not_supported, before anything is sent, when a tree of
/// either tier is missing or its switches do not aggregate the pair (or
/// the domain switches do not or-reduce u32, which the all-gather needs).
Status two_tier_allreduce(Communicator& comm, const AllreduceArgs& args);

}  // namespace inca::algorithms
