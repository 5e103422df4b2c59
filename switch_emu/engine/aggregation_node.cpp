#include "engine/aggregation_node.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "inca/reduce.hpp"

namespace inca::engine {
namespace {

// Serial-number comparison (RFC 1982) so that chunk sequences may wrap.
bool newer(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) > 0;
}

}  // namespace

// One of the two shadow sets of a slot (SwitchML): the set keeps its completed
// result until the set is reused by a newer chunk, so a retransmission whose
// bit is already set is answered from it instead of being aggregated twice.
struct SlotSet {
  enum class State : std::uint8_t { idle, collecting, partial_sent, done };
  State state = State::idle;
  std::uint32_t seq = 0;
  std::uint32_t received = 0;
  wire::Header chunk;  // dtype/op/count/flags every contribution must match
  bool timing_only = false;
  bool folded_any = false;
  std::uint32_t next_child = 0;        // reproducible mode: next child to fold
  std::vector<std::uint64_t> seen;     // child bitmap
  std::vector<std::byte> acc;          // running reduction
  std::vector<wire::Payload> pending;  // reproducible mode: out-of-order children
  wire::Payload kept;                  // partial (partial_sent) or result (done)

  bool has_bit(std::uint32_t c) const { return (seen[c / 64] >> (c % 64)) & 1u; }
  void set_bit(std::uint32_t c) { seen[c / 64] |= std::uint64_t{1} << (c % 64); }
};

struct AggregationNode::Tree {
  wire::TreeInstall install;
  std::vector<SlotSet> sets;  // 2 per slot: index slot*2 + shadow

  bool is_root() const { return install.parent_port == wire::kNoPort; }
  std::uint32_t children() const { return static_cast<std::uint32_t>(install.child_ports.size()); }
};

AggregationNode::AggregationNode(SwitchConfig config) : config_(config) {}
AggregationNode::~AggregationNode() = default;
AggregationNode::AggregationNode(AggregationNode&&) noexcept = default;
AggregationNode& AggregationNode::operator=(AggregationNode&&) noexcept = default;

std::uint32_t AggregationNode::free_slots() const {
  std::uint32_t used = 0;
  for (const auto& [key, tree] : trees_) used += tree->install.slot_count;
  return config_.slots - used;
}

Status AggregationNode::install(const wire::TreeInstall& t) {
  const std::string what = "tree " + std::to_string(t.tree) + " of job " + std::to_string(t.job);
  if (t.child_ports.empty())
    return make_error(StatusCode::invalid_argument, what + " has no children");
  if (t.slot_count == 0 || t.slot_count > wire::kMaxSlot + 1u)
    return make_error(StatusCode::invalid_argument,
                      what + ": slot_count " + std::to_string(t.slot_count) + " out of range");
  if (t.slot_payload_bytes == 0 || t.slot_payload_bytes > config_.slot_payload_bytes)
    return make_error(StatusCode::no_resource, what + " wants " +
                                                   std::to_string(t.slot_payload_bytes) +
                                                   " B per slot; this switch offers " +
                                                   std::to_string(config_.slot_payload_bytes));
  if (trees_.count({t.job, t.tree}))
    return make_error(StatusCode::invalid_argument, what + " is already installed");
  const std::uint32_t end = std::uint32_t{t.slot_base} + t.slot_count;
  if (end > config_.slots)
    return make_error(StatusCode::no_resource,
                      what + " wants slots [" + std::to_string(t.slot_base) + ", " +
                          std::to_string(end) + ") of a pool of " + std::to_string(config_.slots));
  for (const auto& [key, other] : trees_) {
    const std::uint32_t o_begin = other->install.slot_base;
    const std::uint32_t o_end = o_begin + other->install.slot_count;
    if (t.slot_base < o_end && o_begin < end)
      return make_error(StatusCode::no_resource, what + " overlaps the slots of tree " +
                                                     std::to_string(key.second) + " of job " +
                                                     std::to_string(key.first));
  }
  auto tree = std::make_unique<Tree>();
  tree->install = t;
  tree->sets.resize(std::size_t{t.slot_count} * 2);
  const std::size_t words = (t.child_ports.size() + 63) / 64;
  for (auto& set : tree->sets) set.seen.assign(words, 0);
  trees_.emplace(std::make_pair(t.job, t.tree), std::move(tree));
  return {};
}

Status AggregationNode::remove(const wire::TreeRemove& t) {
  if (trees_.erase({t.job, t.tree}) == 0)
    return make_error(StatusCode::not_supported, "tree " + std::to_string(t.tree) + " of job " +
                                                     std::to_string(t.job) + " is not installed");
  return {};
}

AggregationNode::Tree* AggregationNode::find_tree(std::uint32_t job, std::uint16_t tree) {
  auto it = trees_.find({job, tree});
  return it == trees_.end() ? nullptr : it->second.get();
}

void AggregationNode::on_packet(std::uint16_t in_port, const wire::Packet& p,
                                std::vector<Emit>& out) {
  Tree* tree = find_tree(p.header.job, p.header.tree);
  if (!tree) {
    ++counters_.drop_unknown_tree;
    return;
  }
  if (p.header.key_tag != tree->install.key_tag) {
    ++counters_.drop_bad_key;
    return;
  }
  if (p.header.slot >= tree->install.slot_count) {
    ++counters_.drop_bad_child;
    return;
  }
  switch (p.header.type) {
    case wire::PacketType::contribution:
      return on_contribution(*tree, in_port, p, out);
    case wire::PacketType::result:
      return on_result(*tree, in_port, p, out);
    default:
      ++counters_.drop_bad_type;
  }
}

namespace {

wire::Packet make_reply(const wire::Header& chunk, const wire::Header& request,
                        wire::PacketType type, std::uint16_t child, wire::Payload payload) {
  wire::Packet r;
  r.header = chunk;
  r.header.type = type;
  r.header.job = request.job;
  r.header.key_tag = request.key_tag;
  r.header.tree = request.tree;
  r.header.slot = request.slot;
  r.header.shadow = request.shadow;
  r.header.sequence = request.sequence;
  r.header.child = child;
  r.payload = std::move(payload);
  return r;
}

void fold(SlotSet& set, const wire::Payload& payload) {
  if (set.timing_only) return;
  if (!set.folded_any) {
    set.acc.assign(payload->begin(), payload->end());
    set.folded_any = true;
    return;
  }
  reduce_into(set.acc.data(), payload->data(), set.chunk.count, set.chunk.dtype, set.chunk.op);
}

}  // namespace

void AggregationNode::on_contribution(Tree& t, std::uint16_t in_port, const wire::Packet& p,
                                      std::vector<Emit>& out) {
  const wire::Header& h = p.header;
  const wire::TreeInstall& cfg = t.install;
  if (h.child >= t.children() || cfg.child_ports[h.child] != in_port) {
    ++counters_.drop_bad_child;
    return;
  }
  if (h.payload_bytes() > cfg.slot_payload_bytes) {
    ++counters_.drop_oversize;
    return;
  }
  SlotSet& set = t.sets[std::size_t{h.slot} * 2 + (h.shadow ? 1 : 0)];
  const bool fresh = set.state == SlotSet::State::idle;
  if (fresh || (h.sequence != set.seq && newer(h.sequence, set.seq))) {
    if (!fresh && set.state != SlotSet::State::done) {
      // Hosts only reuse a set after its previous chunk's result reached them,
      // so this is a forged or misordered packet: never overwrite live state.
      ++counters_.slot_full;
      return;
    }
    set.state = SlotSet::State::collecting;
    set.seq = h.sequence;
    set.received = 0;
    set.chunk = h;
    set.timing_only = !p.payload;
    set.folded_any = false;
    set.next_child = 0;
    std::fill(set.seen.begin(), set.seen.end(), 0);
    set.pending.clear();
    set.kept.reset();
  } else if (h.sequence != set.seq) {
    ++counters_.stale;
    return;
  }

  if (set.has_bit(h.child)) {
    ++counters_.duplicates;
    if (set.state == SlotSet::State::done) {
      ++counters_.duplicate_answers;
      ++counters_.results_sent;
      out.push_back({in_port, make_reply(set.chunk, h, wire::PacketType::result, 0, set.kept)});
    } else if (set.state == SlotSet::State::partial_sent) {
      // The child timed out, so our partial or the parent's result was lost:
      // resend the partial; the parent aggregates it or answers from its copy.
      ++counters_.partial_reforwards;
      out.push_back({cfg.parent_port, make_reply(set.chunk, h, wire::PacketType::contribution,
                                                 cfg.index_at_parent, set.kept)});
    }
    return;
  }
  if (h.dtype != set.chunk.dtype || h.op != set.chunk.op || h.count != set.chunk.count ||
      h.flags != set.chunk.flags || set.timing_only != !p.payload) {
    ++counters_.drop_mismatch;
    return;
  }
  set.set_bit(h.child);
  ++set.received;
  ++counters_.contributions;

  if (h.has(wire::kFlagReproducible) && !set.timing_only) {
    // Fold children strictly in child order; early arrivals wait by reference.
    if (set.pending.empty()) set.pending.resize(t.children());
    set.pending[h.child] = p.payload;
    while (set.next_child < t.children() && set.pending[set.next_child]) {
      fold(set, set.pending[set.next_child]);
      set.pending[set.next_child].reset();
      ++set.next_child;
    }
  } else if (!set.timing_only) {
    fold(set, p.payload);
  }
  if (set.received < t.children()) return;

  wire::Payload reduced =
      set.timing_only ? nullptr : wire::make_payload(set.acc.data(), set.acc.size());
  set.kept = reduced;
  set.pending.clear();
  if (t.is_root()) {
    set.state = SlotSet::State::done;
    ++counters_.results;
    for (std::uint16_t port : cfg.child_ports) {
      out.push_back({port, make_reply(set.chunk, h, wire::PacketType::result, 0, reduced)});
      ++counters_.results_sent;
    }
  } else {
    set.state = SlotSet::State::partial_sent;
    ++counters_.partials_sent;
    out.push_back({cfg.parent_port, make_reply(set.chunk, h, wire::PacketType::contribution,
                                               cfg.index_at_parent, reduced)});
  }
}

void AggregationNode::on_result(Tree& t, std::uint16_t in_port, const wire::Packet& p,
                                std::vector<Emit>& out) {
  const wire::Header& h = p.header;
  if (t.is_root() || in_port != t.install.parent_port) {
    ++counters_.drop_bad_child;
    return;
  }
  SlotSet& set = t.sets[std::size_t{h.slot} * 2 + (h.shadow ? 1 : 0)];
  if (h.sequence != set.seq ||
      (set.state != SlotSet::State::partial_sent && set.state != SlotSet::State::done)) {
    ++counters_.stale;
    return;
  }
  if (set.state == SlotSet::State::partial_sent) {
    set.state = SlotSet::State::done;
    set.kept = p.payload;
    ++counters_.results;
  }
  // A repeated result (our re-forwarded partial was answered) goes down again:
  // the children that lost it are waiting, the others discard it as duplicate.
  for (std::uint16_t port : t.install.child_ports) {
    out.push_back({port, make_reply(set.chunk, h, wire::PacketType::result, 0, set.kept)});
    ++counters_.results_sent;
  }
}

}  // namespace inca::engine
