#include "engine/aggregation_node.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "inca/reduce.hpp"
#include "wire/error_payload.hpp"

namespace inca::engine {
namespace {

// Serial-number comparison (RFC 1982) so that chunk sequences may wrap.
bool newer(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) > 0;
}

// Every contribution carries its collective's attempt tag, so two different
// collectives never mix in one slot, whatever else the packet says.
bool same_attempt(const wire::Header& a, const wire::Header& b) {
  return a.attempt_tag == b.attempt_tag;
}

std::string describe(const wire::Header& h) {
  std::string flags;
  if (h.has(wire::kFlagLast)) flags += " last";
  if (h.has(wire::kFlagReproducible)) flags += " reproducible";
  return fmt::format("{} x {} {}{} (attempt tag {})", h.count, to_string(h.dtype), to_string(h.op),
                     flags.empty() ? "" : " [" + flags.substr(1) + "]", h.attempt_tag);
}

}  // namespace

std::uint64_t classified_packets(const EngineCounters& c) {
  return c.contributions + c.duplicates + c.refused + c.refused_caps + c.slot_full + c.stale +
         c.results_in + c.results_repeated + c.errors_in + c.drop_unknown_tree + c.drop_bad_key +
         c.drop_bad_child + c.drop_bad_slot + c.drop_mismatch + c.drop_oversize + c.drop_bad_type +
         c.drop_malformed;
}

// One bit per child of a tree.
class ChildBits {
 public:
  void assign(std::size_t children) { words_.assign((children + 63) / 64, 0); }
  bool test(std::uint32_t c) const { return (words_[c / 64] >> (c % 64)) & 1u; }
  void set(std::uint32_t c) { words_[c / 64] |= std::uint64_t{1} << (c % 64); }
  bool none() const {
    return std::all_of(words_.begin(), words_.end(), [](auto w) { return w == 0; });
  }
  void clear() { std::fill(words_.begin(), words_.end(), 0); }

 private:
  std::vector<std::uint64_t> words_;
};

// One of the two shadow sets of a slot (SwitchML): the set keeps its completed
// result until the set is reused by a newer chunk, so a retransmission whose
// bit is already set is answered from it instead of being aggregated twice.
// A set whose chunk was refused (mismatch) is `failed`: it keeps the error to
// answer retransmissions with, and a newer chunk may take it over like a done one.
struct SlotSet {
  enum class State : std::uint8_t { idle, collecting, partial_sent, done, failed };
  State state = State::idle;
  std::uint32_t seq = 0;
  std::uint32_t received = 0;
  wire::Header chunk;  // dtype/op/count/flags every contribution must match (identity
                       // bit: the set's partial or result carries none of the data)
  bool timing_only = false;
  bool data_known = false;  // a child sent other than identity: timing_only holds
  bool folded_any = false;
  std::uint32_t next_child = 0;             // reproducible mode: next child to fold
  ChildBits seen;                           // children that contributed
  ChildBits wants;                          // children that keep the result's data
  ChildBits asked;                          // partial_sent: children whose duplicate came since the
                                            // last re-forward of the partial
  std::vector<std::byte> acc;               // running reduction
  std::vector<wire::Payload> pending;       // reproducible mode: out-of-order children
  wire::Payload kept;                       // partial (partial_sent), result (done), error (failed)
  StatusCode error = StatusCode::mismatch;  // failed: the status its error packets carry

  // True when this duplicate from child c starts a new round of timeouts: the
  // first since the last re-forward, or c's own next one. The other children's
  // duplicates of that round wait for the same answer, so one re-forward per
  // round serves them all instead of one per child.
  bool new_round(std::uint32_t c) {
    const bool starts = asked.none() || asked.test(c);
    if (starts) asked.clear();
    asked.set(c);
    return starts;
  }
};

struct AggregationNode::Tree {
  wire::TreeInstall install;
  std::vector<SlotSet> sets;  // 2 per slot: index slot*2 + shadow

  bool is_root() const { return install.parent_port == wire::kNoPort; }
  std::uint32_t children() const { return static_cast<std::uint32_t>(install.child_ports.size()); }
};

std::uint64_t dropped_packets(const EngineCounters& c) {
  return c.drop_unknown_tree + c.drop_bad_key + c.drop_bad_child + c.drop_bad_slot +
         c.drop_mismatch + c.drop_oversize + c.drop_bad_type + c.drop_malformed + c.stale +
         c.slot_full;
}

AggregationNode::AggregationNode(SwitchConfig config) : config_(config) {}
AggregationNode::~AggregationNode() = default;
AggregationNode::AggregationNode(AggregationNode&&) noexcept = default;
AggregationNode& AggregationNode::operator=(AggregationNode&&) noexcept = default;

std::uint32_t AggregationNode::free_slots() const {
  std::uint32_t used = 0;
  for (const auto& [key, tree] : trees_) used += tree->install.slot_count;
  return config_.slots - used;
}

std::uint32_t AggregationNode::slots_in_use() const {
  std::uint32_t busy = 0;
  for (const auto& [key, tree] : trees_)
    for (const SlotSet& set : tree->sets)
      busy += set.state == SlotSet::State::collecting || set.state == SlotSet::State::partial_sent;
  return busy;
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
  for (auto& set : tree->sets) {
    set.seen.assign(t.child_ports.size());
    set.asked.assign(t.child_ports.size());
    set.wants.assign(t.child_ports.size());
  }
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

void AggregationNode::drop(EngineBucket bucket) {
  ++(counters_.*bucket);
  dropped_as_ = bucket;
}

void AggregationNode::on_packet(std::uint16_t in_port, const wire::Packet& p,
                                std::vector<Emit>& out) {
  ++counters_.packets_in;
  dropped_as_ = nullptr;
  Tree* tree = find_tree(p.header.job, p.header.tree);
  if (!tree) {
    drop(&EngineCounters::drop_unknown_tree);
    return;
  }
  if (p.header.key_tag != tree->install.key_tag) {
    drop(&EngineCounters::drop_bad_key);
    return;
  }
  if (p.header.slot >= tree->install.slot_count) {
    drop(&EngineCounters::drop_bad_slot);
    return;
  }
  switch (p.header.type) {
    case wire::PacketType::contribution:
      return on_contribution(*tree, in_port, p, out);
    case wire::PacketType::result:
      return on_result(*tree, in_port, p, out);
    case wire::PacketType::error:
      return on_error(*tree, in_port, p, out);
    default:
      drop(&EngineCounters::drop_bad_type);
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

wire::Packet make_error_packet(const wire::TreeInstall& cfg, const wire::Payload& error,
                               StatusCode status, std::uint16_t slot, bool shadow,
                               std::uint16_t child) {
  wire::Packet e;
  e.header.type = wire::PacketType::error;
  e.header.job = cfg.job;
  e.header.key_tag = cfg.key_tag;
  e.header.tree = cfg.tree;
  e.header.slot = slot;
  e.header.shadow = shadow;
  e.header.sequence = static_cast<std::uint32_t>(status);
  e.header.child = child;
  e.header.count = static_cast<std::uint32_t>(error->size());
  e.payload = error;
  return e;
}

wire::Packet make_error_packet(const wire::TreeInstall& cfg, const SlotSet& set, std::uint16_t slot,
                               bool shadow, std::uint16_t child) {
  return make_error_packet(cfg, set.kept, set.error, slot, shadow, child);
}

// Fails the set's chunk and sends its error down to every child but `skip`,
// and up to the parent when `up`.
void fail_chunk(const wire::TreeInstall& cfg, SlotSet& set, std::uint16_t slot, bool shadow,
                std::uint16_t skip, bool up, EngineCounters& counters, std::vector<Emit>& out) {
  set.state = SlotSet::State::failed;
  set.pending.clear();
  for (std::size_t i = 0; i < cfg.child_ports.size(); ++i) {
    const std::uint16_t port = cfg.child_ports[i];
    if (port == skip) continue;
    out.push_back(
        {port, make_error_packet(cfg, set, slot, shadow, 0), static_cast<std::uint16_t>(i)});
    ++counters.errors_sent;
  }
  if (up && cfg.parent_port != wire::kNoPort) {
    out.push_back(
        {cfg.parent_port, make_error_packet(cfg, set, slot, shadow, cfg.index_at_parent)});
    ++counters.errors_sent;
  }
}

bool identity(const wire::Header& h) {
  return h.has(wire::kFlagIdentity);
}

// Flags every child of a chunk must agree on: all but identity and
// header-only, which are each child's own.
std::uint8_t chunk_flags(const wire::Header& h) {
  return static_cast<std::uint8_t>(h.flags & ~(wire::kFlagIdentity | wire::kFlagHeaderOnly));
}

// The result for child c: the data, or its header alone where c keeps none.
wire::Packet result_for(const SlotSet& set, const wire::Header& request, std::uint16_t c,
                        const wire::Payload& data, EngineCounters& counters) {
  ++counters.results_sent;
  if (set.wants.test(c)) return make_reply(set.chunk, request, wire::PacketType::result, 0, data);
  ++counters.header_only_results;
  wire::Packet r = make_reply(set.chunk, request, wire::PacketType::result, 0, nullptr);
  r.header.flags |= wire::kFlagHeaderOnly;
  r.header.flags &= static_cast<std::uint8_t>(~wire::kFlagIdentity);
  return r;
}

// A partial asks for a header-only answer when no child below keeps any data.
wire::Packet partial_of(const SlotSet& set, const wire::Header& request, std::uint16_t index,
                        const wire::Payload& data) {
  wire::Packet p = make_reply(set.chunk, request, wire::PacketType::contribution, index, data);
  if (set.wants.none()) p.header.flags |= wire::kFlagHeaderOnly;
  return p;
}

void fold(SlotSet& set, const wire::Payload& payload) {
  if (set.timing_only || !payload) return;
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
    drop(&EngineCounters::drop_bad_child);
    return;
  }
  if (h.chunk_bytes() > cfg.slot_payload_bytes) {
    drop(&EngineCounters::drop_oversize);
    return;
  }
  if (!config_.caps.supports(h.dtype, h.op)) {
    // The manager never builds a tree over a switch for a pair it lacks, so
    // this sender ignored the tree's caps. Answer it alone, and fast, rather
    // than let it time out; the slot and the other children are not touched.
    ++counters_.refused_caps;
    ++counters_.errors_sent;
    const std::string why = fmt::format(
        "switch {}: tree {} does not aggregate {} {}; this switch aggregates {}", config_.name,
        cfg.tree, to_string(h.dtype), to_string(h.op), config_.caps.describe());
    out.push_back({in_port,
                   make_error_packet(cfg, wire::make_error_payload(h.sequence, why),
                                     StatusCode::not_supported, h.slot, h.shadow, 0),
                   h.child});
    return;
  }
  SlotSet& set = t.sets[std::size_t{h.slot} * 2 + (h.shadow ? 1 : 0)];
  const bool fresh = set.state == SlotSet::State::idle;
  if (fresh || (h.sequence != set.seq && newer(h.sequence, set.seq))) {
    if (!fresh && set.state != SlotSet::State::done && set.state != SlotSet::State::failed) {
      // Hosts only reuse a set after its previous chunk's result reached them,
      // so this is a forged or misordered packet: never overwrite live state.
      drop(&EngineCounters::slot_full);
      return;
    }
    set.state = SlotSet::State::collecting;
    set.seq = h.sequence;
    set.received = 0;
    set.chunk = h;
    set.chunk.flags = chunk_flags(h);
    set.data_known = !identity(h);
    set.timing_only = set.data_known && !p.payload;
    set.folded_any = false;
    set.next_child = 0;
    set.seen.clear();
    set.asked.clear();
    set.wants.clear();
    set.pending.clear();
    set.kept.reset();
  } else if (h.sequence != set.seq) {
    drop(&EngineCounters::stale);
    return;
  }
  if (set.state == SlotSet::State::failed) {
    // A retransmission of a refused chunk: its sender lost the error.
    ++counters_.refused;
    ++counters_.errors_sent;
    out.push_back({in_port, make_error_packet(cfg, set, h.slot, h.shadow, 0), h.child});
    return;
  }

  if (set.seen.test(h.child)) {
    ++counters_.duplicates;
    if (set.state == SlotSet::State::done) {
      ++counters_.duplicate_answers;
      out.push_back({in_port, result_for(set, h, h.child, set.kept, counters_), h.child});
    } else if (set.state == SlotSet::State::partial_sent && set.new_round(h.child)) {
      // The child timed out, so our partial or the parent's result was lost:
      // resend the partial; the parent aggregates it or answers from its copy.
      ++counters_.partial_reforwards;
      out.push_back({cfg.parent_port, partial_of(set, h, cfg.index_at_parent, set.kept)});
    }
    return;
  }
  const bool data_mismatch = !identity(h) && set.data_known && set.timing_only != !p.payload;
  if (h.dtype != set.chunk.dtype || h.op != set.chunk.op || h.count != set.chunk.count ||
      chunk_flags(h) != chunk_flags(set.chunk) || !same_attempt(h, set.chunk) || data_mismatch) {
    // Ranks called the collective with different arguments, or are in
    // different collectives: no result can be exact, so every member hears it.
    drop(&EngineCounters::drop_mismatch);
    const std::string why = fmt::format(
        "switch {}: chunk {} of tree {}: child {} sent {}{}, the chunk is {}{}", config_.name,
        h.sequence, cfg.tree, h.child, describe(h), p.payload ? "" : " without data",
        describe(set.chunk), set.timing_only ? " without data" : "");
    set.kept = wire::make_error_payload(h.sequence, why);
    set.error = StatusCode::mismatch;
    fail_chunk(cfg, set, h.slot, h.shadow, wire::kNoPort, true, counters_, out);
    return;
  }
  if (!identity(h) && !set.data_known) {
    set.data_known = true;
    set.timing_only = !p.payload;
  }
  set.seen.set(h.child);
  if (!h.has(wire::kFlagHeaderOnly)) set.wants.set(h.child);
  ++set.received;
  ++counters_.contributions;
  if (identity(h)) ++counters_.identity_contributions;
  // An identity child is in the bitmap but folds nothing.
  const wire::Payload data = identity(h) ? nullptr : p.payload;
  if (h.has(wire::kFlagReproducible) && !set.timing_only) {
    // Fold children strictly in child order; early arrivals wait by reference.
    if (set.pending.empty()) set.pending.resize(t.children());
    set.pending[h.child] = data;
    while (set.next_child < t.children() && set.seen.test(set.next_child)) {
      fold(set, set.pending[set.next_child]);
      set.pending[set.next_child].reset();
      ++set.next_child;
    }
  } else {
    fold(set, data);
  }
  if (set.received < t.children()) return;

  // Every child identity: so is what goes on (header only).
  if (!set.data_known) set.chunk.flags |= wire::kFlagIdentity;
  wire::Payload reduced = set.timing_only || !set.folded_any
                              ? nullptr
                              : wire::make_payload(set.acc.data(), set.acc.size());
  set.kept = reduced;
  set.pending.clear();
  if (t.is_root()) {
    set.state = SlotSet::State::done;
    ++counters_.results;
    for (std::size_t i = 0; i < cfg.child_ports.size(); ++i) {
      const auto child = static_cast<std::uint16_t>(i);
      out.push_back({cfg.child_ports[i], result_for(set, h, child, reduced, counters_), child});
    }
  } else {
    set.state = SlotSet::State::partial_sent;
    ++counters_.partials_sent;
    out.push_back({cfg.parent_port, partial_of(set, h, cfg.index_at_parent, reduced)});
  }
}

void AggregationNode::on_result(Tree& t, std::uint16_t in_port, const wire::Packet& p,
                                std::vector<Emit>& out) {
  const wire::Header& h = p.header;
  if (t.is_root() || in_port != t.install.parent_port) {
    drop(&EngineCounters::drop_bad_child);
    return;
  }
  SlotSet& set = t.sets[std::size_t{h.slot} * 2 + (h.shadow ? 1 : 0)];
  if (h.sequence != set.seq ||
      (set.state != SlotSet::State::partial_sent && set.state != SlotSet::State::done)) {
    drop(&EngineCounters::stale);
    return;
  }
  wire::Header& chunk = set.chunk;
  const bool header_only = h.has(wire::kFlagHeaderOnly);
  const bool data_mismatch =
      !identity(h) && !header_only && set.data_known && set.timing_only != !p.payload;
  // Withheld from a subtree in which some child keeps the data: not our answer.
  const bool withheld_wrongly = header_only && !set.wants.none();
  if (h.dtype != chunk.dtype || h.op != chunk.op || h.count != chunk.count ||
      !same_attempt(h, chunk) || data_mismatch || withheld_wrongly) {
    // Not the answer to the partial this node sent (a forged or corrupted
    // result): passed down under the chunk's header it would tell children
    // the wrong length. Dropped; the children's retransmissions re-forward
    // the partial and the parent's real result completes the chunk.
    drop(&EngineCounters::drop_mismatch);
    return;
  }
  if (set.state == SlotSet::State::done) {
    // The parent answered a re-forwarded partial after the first result came
    // through. Every child got that one by multicast; one that lost it
    // retransmits and is answered from the kept copy. Sending it down again
    // would multiply the traffic of every lossy round by the fan-out.
    ++counters_.results_repeated;
    return;
  }
  set.state = SlotSet::State::done;
  // The tree above may hold data where this subtree held only identity.
  chunk.flags = static_cast<std::uint8_t>(chunk_flags(chunk) | (h.flags & wire::kFlagIdentity));
  // A header-only result carries no data: every child below asked for none.
  set.kept = identity(h) || h.has(wire::kFlagHeaderOnly) ? nullptr : p.payload;
  ++counters_.results;
  ++counters_.results_in;
  for (std::size_t i = 0; i < t.install.child_ports.size(); ++i) {
    const auto child = static_cast<std::uint16_t>(i);
    out.push_back(
        {t.install.child_ports[i], result_for(set, h, child, set.kept, counters_), child});
  }
}

void AggregationNode::on_error(Tree& t, std::uint16_t in_port, const wire::Packet& p,
                               std::vector<Emit>& out) {
  const wire::Header& h = p.header;
  const wire::TreeInstall& cfg = t.install;
  const bool from_parent = !t.is_root() && in_port == cfg.parent_port;
  const bool from_child = h.child < t.children() && cfg.child_ports[h.child] == in_port;
  if (!from_parent && !from_child) {
    drop(&EngineCounters::drop_bad_child);
    return;
  }
  auto error = wire::parse_error_payload(p.payload_span());
  if (!error) {
    drop(&EngineCounters::drop_malformed);
    return;
  }
  SlotSet& set = t.sets[std::size_t{h.slot} * 2 + (h.shadow ? 1 : 0)];
  const bool ours = set.state != SlotSet::State::idle && set.seq == error->chunk_sequence;
  if ((ours && set.state == SlotSet::State::failed) ||
      (!ours && set.state != SlotSet::State::idle && !newer(error->chunk_sequence, set.seq))) {
    drop(&EngineCounters::stale);  // already failed, or about a chunk this set has moved past
    return;
  }
  ++counters_.errors_in;
  // Take the set over for the refused chunk even if no child reached it yet,
  // so that their contributions are answered with the error, not aggregated.
  if (!ours) {
    set.seq = error->chunk_sequence;
    set.received = 0;
    set.seen.clear();
  }
  set.kept = p.payload;
  // Pass on the status the error came with (mismatch, or not_supported from
  // a switch above whose caps refused the partial).
  const bool known =
      h.sequence > 0 && h.sequence <= static_cast<std::uint32_t>(StatusCode::internal);
  set.error = known ? static_cast<StatusCode>(h.sequence) : StatusCode::mismatch;
  fail_chunk(cfg, set, h.slot, h.shadow, from_parent ? wire::kNoPort : in_port, !from_parent,
             counters_, out);
}

}  // namespace inca::engine
