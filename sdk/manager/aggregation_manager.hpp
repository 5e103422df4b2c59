// The aggregation manager: the only owner of trees and switch slots
// (DESIGN.md, principle 3). It builds a communicator's reduction tree over the
// topology, reserves each switch's slots and hands back the control messages
// a fabric applies; data paths never invent resources.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inca/job_identity.hpp"
#include "inca/status.hpp"
#include "manager/slot_pool.hpp"
#include "topology/topology.hpp"
#include "wire/control.hpp"
#include "wire/header.hpp"

namespace inca::manager {

/// Which switches a tree may be built on. A scale-up switch (an NVLink
/// domain's) links only to hosts that also have a way out through another
/// port; scale-out is every other switch. A member set one switch of either
/// kind reaches is otherwise rooted at whichever the tree id picks.
enum class TreePlacement : std::uint8_t {
  any,        ///< every aggregating switch
  scale_up,   ///< only scale-up switches: a domain's tree, on its domain switch
  scale_out,  ///< never a scale-up switch: the InfiniBand/Ethernet tiers
};

/// What a communicator asks for.
struct TreeRequest {
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::vector<std::uint32_t> hosts;        ///< host index of each member, in rank order
  std::uint32_t slots = 64;                ///< window: outstanding chunks per host
  std::uint32_t max_payload_bytes = 1024;  ///< upper bound on payload per packet
  /// Switch nodes the tree must not use (dead ones, when a tree is re-formed).
  std::vector<std::uint32_t> avoid_switches = {};
  /// Links the tree must not use, each named by one end (node, port).
  std::vector<std::pair<std::uint32_t, std::uint16_t>> avoid_links = {};
  /// Whose tree it is, for the admission of a described fabric (set_admission).
  JobIdentity identity = {};
  TreePlacement placement = TreePlacement::any;
};

/// Whether switch node `sw` is a scale-up switch (TreePlacement).
bool is_scale_up_switch(const topology::Topology& topology, std::uint32_t sw);

/// Where a member host plugs into the tree.
struct HostAttachment {
  std::uint32_t host = 0;
  std::uint32_t leaf_node = 0;    ///< switch the host sends contributions to
  std::uint16_t child_index = 0;  ///< its child index at that switch
  std::uint16_t host_port = 0;    ///< the host's NIC port toward that switch
};

/// An allocated tree.
struct TreePlan {
  std::uint32_t job = 0;
  std::uint32_t key_tag = 0;
  std::uint16_t tree = 0;
  std::uint32_t slots = 0;               ///< slots per switch = the hosts' window
  std::uint32_t slot_payload_bytes = 0;  ///< payload per packet every switch accepts
  std::uint32_t root = 0;                ///< root switch node id
  std::uint32_t switch_levels = 0;       ///< switches on the longest host-root path
  SwitchCaps caps = {};                  ///< what every switch of the tree aggregates
  /// The tree's slowest stage for one chunk of slot_payload_bytes: a switch's
  /// ALU taking every child's contribution, or a tree link carrying it. A
  /// host allows for it per chunk ahead before it retransmits.
  Time chunk_service = 0;
  std::vector<std::pair<std::uint32_t, wire::TreeInstall>> installs;  ///< per switch node
  std::vector<HostAttachment> members;  ///< one per requested host, same order
  /// With admission: the job the tree is booked as, and whether messages
  /// above streaming_threshold need the streaming lock (JobIdentity).
  std::string admission_job = {};
  bool streaming = false;
  std::uint64_t streaming_threshold = 0;
};

class TreeAdmission;

class AggregationManager {
 public:
  explicit AggregationManager(const topology::Topology& topology);

  /// Builds and reserves a tree, around the switches and links the request
  /// avoids. Errors: invalid_argument (bad request), no_tree (members not
  /// connected), no_resource (a switch lacks slots; the message names it and
  /// what is free).
  Result<TreePlan> allocate(const TreeRequest& request);
  /// Frees the slots of a tree allocated here; invalid_argument when the plan
  /// is not a live tree of this manager (e.g. released twice).
  Status release(const TreePlan& plan);
  /// Free slots of a switch node.
  std::uint32_t free_slots(std::uint32_t switch_node) const;
  /// Books every tree allocated from now on in `admission` too (quotas, tree
  /// limits, payload per slot, streaming locks), whose errors allocate()
  /// then returns: no_resource, quota_exceeded.
  void set_admission(std::shared_ptr<TreeAdmission> admission);
  /// Takes the plan's streaming lock: lock_failed (retryable), lock_denied
  /// (booked without streaming, or no admission).
  Status lock_streaming(const TreePlan& plan);

 private:
  class Reach;
  using Distances =
      std::map<std::uint32_t, std::vector<std::uint32_t>>;  // root -> hops to each node
  const topology::Topology& topology_;
  std::map<TreePlacement, Distances> distances_;  // searched for requests that avoid nothing
  std::map<std::uint32_t, SlotPool> pools_;       // switch node -> pool
  // Live trees: id -> (switch node, slot base) of each reservation. Release
  // goes by this book, not by the caller's plan alone, so a stale plan can
  // never free slots that now belong to another tree.
  std::map<std::uint16_t, std::vector<std::pair<std::uint32_t, std::uint32_t>>> live_;
  std::uint16_t next_tree_ = 1;
  std::shared_ptr<TreeAdmission> admission_;
};

}  // namespace inca::manager
