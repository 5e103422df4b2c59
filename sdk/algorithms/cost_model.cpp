#include "inca/cost_model.hpp"

#include "algorithms/cost_model_timeline.hpp"
#include "algorithms/hierarchical_allreduce.hpp"
#include "algorithms/ring_allreduce.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace inca {

namespace {

double ps_per_byte(double gbps) {
  return 8000.0 / gbps;
}

double wire(std::size_t m, std::size_t payload, std::size_t overhead) {
  return algorithms::wire_bytes(m, payload, overhead);
}

Time rounded(double ps) {
  return static_cast<Time>(std::llround(ps));
}

}  // namespace

ModelPath ModelPath::uniform(double links, double gbps, Time latency, std::uint32_t sharing,
                             Time forwarding) {
  ModelPath p;
  p.links = links;
  p.flow_ps_per_byte = sharing * ps_per_byte(gbps);
  p.store_forward_ps_per_byte = (links - 1) * ps_per_byte(gbps);
  p.fixed_ps = links * static_cast<double>(latency) + (links - 1) * static_cast<double>(forwarding);
  return p;
}

double ModelPath::crossing(std::size_t m, std::size_t payload, std::size_t overhead) const {
  const double pkt = static_cast<double>(std::min(m, payload) + overhead);
  return flow_ps_per_byte * wire(m, payload, overhead) + store_forward_ps_per_byte * pkt + fixed_ps;
}

double ModelHost::compute(std::size_t bytes) const {
  return reduce_gbps > 0 ? static_cast<double>(bytes) * ps_per_byte(reduce_gbps) : 0.0;
}

double ModelTreeLevel::alu(std::size_t payload) const {
  return std::max(alu_ps_per_byte * static_cast<double>(payload),
                  static_cast<double>(alu_ps_per_packet));
}

double ModelFabric::message(const ModelPath& path, std::size_t m) const {
  return static_cast<double>(host.send_overhead) + path.crossing(m, p2p_payload, packet_overhead) +
         static_cast<double>(host.recv_overhead);
}

double ModelFabric::acknowledgement(const ModelPath& path, std::size_t m) const {
  return m > eager_bytes ? path.crossing(0, p2p_payload, packet_overhead) : 0.0;
}

std::vector<ModelTreeLevel> ModelFabric::uniform_tree(const std::vector<std::uint32_t>& children,
                                                      double gbps, Time latency) {
  std::vector<ModelTreeLevel> levels(children.size());
  for (std::size_t i = 0; i < children.size(); ++i) {
    levels[i].children = children[i];
    levels[i].up_ps_per_byte = levels[i].down_ps_per_byte = ps_per_byte(gbps);
    levels[i].up_latency = levels[i].down_latency = latency;
  }
  return levels;
}

namespace {

Time ring(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  const std::size_t p = f.ranks;
  if (p <= 1 || bytes == 0) return 0;
  const std::size_t count = bytes / esize;
  // The largest segment dominates every step.
  const std::size_t seg = ((count + p - 1) / p) * esize;
  const std::size_t chunk = std::min(seg, algorithms::ring_chunk_bytes(seg, f.p2p_payload, esize));
  const std::size_t chunks = (seg + chunk - 1) / chunk;
  // A chunk crossing to the neighbour: posted, serialised at the pair's
  // bottleneck, stored and forwarded once per switch, taken in. Each step
  // waits on its left neighbour, so delays chain around the ring and the mean
  // path (not the longest) sets the pace.
  const double wire_chunk = f.ring.flow_ps_per_byte * wire(chunk, f.p2p_payload, f.packet_overhead);
  const double t_chunk = f.message(f.ring, chunk);
  const double tail = t_chunk - wire_chunk;
  const double compute = f.host.compute(chunk);
  // A step lasts the longer of "the slowest stage passes every chunk" (the
  // link, the host posting or taking in messages, the reduction) and "one
  // chunk crosses"; with several chunks the next step's first chunk overlaps
  // this one, leaving one path delay at the end. Reduce-scatter steps reduce.
  // The segment's last chunk holds what is left (a few elements when the
  // chunk size rounds down), and costs only that.
  const std::size_t last = seg - (chunks - 1) * chunk;
  auto stage = [&](std::size_t m) {
    return std::max({f.ring.flow_ps_per_byte * wire(m, f.p2p_payload, f.packet_overhead),
                     static_cast<double>(f.host.send_interval()),
                     static_cast<double>(f.host.recv_interval())});
  };
  const double full = static_cast<double>(chunks - 1);
  const double reduce_step =
      std::max(full * std::max(stage(chunk), compute) + std::max(stage(last), f.host.compute(last)),
               t_chunk + compute);
  const double gather_step = std::max(full * stage(chunk) + stage(last), t_chunk);
  const double steps = static_cast<double>(p - 1);
  // When reduction is slower than the link, the first all-gather step's
  // chunks leave as the last reductions finish (the link was idle between
  // them), so that step ends one chunk's crossing after the reduce-scatter.
  const double overlap =
      compute > stage(chunk) ? std::max(0.0, gather_step - std::max(stage(chunk), t_chunk)) : 0.0;
  return rounded(steps * (reduce_step + gather_step) - overlap + (chunks > 1 ? tail : 0.0));
}

// A chunk of `payload` bytes up the tree and back: every level's links,
// forwarding, and ALU (all children queue for it at once).
double tree_round_trip(const ModelFabric& f, std::size_t payload) {
  const double pkt = static_cast<double>(payload + f.packet_overhead);
  double t = 0;
  for (std::size_t l = 0; l < f.tree.size(); ++l) {
    const ModelTreeLevel& level = f.tree[l];
    t += level.up_ps_per_byte * pkt + static_cast<double>(level.up_latency);
    if (l > 0) t += static_cast<double>(f.tree[l - 1].forwarding);
    t += level.children * level.alu(payload) + static_cast<double>(level.aggregation_latency);
  }
  for (const ModelTreeLevel& level : f.tree)
    t += static_cast<double>(level.forwarding) + level.down_ps_per_byte * pkt +
         static_cast<double>(level.down_latency);
  return t;
}

}  // namespace

InnetTiming model_innet(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  InnetTiming t;
  if (f.ranks <= 1 || bytes == 0 || f.tree.empty()) return t;
  const std::size_t per_packet = f.slot_payload / esize * esize;
  t.chunks = (bytes + per_packet - 1) / per_packet;
  t.round_trip_ps = tree_round_trip(f, t.chunks == 1 ? bytes : per_packet);
  // Once full, the pipeline passes one chunk per its slowest stage: any tree
  // link (each carries one packet per chunk each way), a switch's ALU (one
  // contribution per child), a host posting or taking in a message, or the
  // window (W chunks per round trip).
  const double pkt = static_cast<double>(per_packet + f.packet_overhead);
  auto consider = [&](double value, const char* what) {
    if (value > t.gap_ps) {
      t.gap_ps = value;
      t.bound = what;
    }
  };
  for (const ModelTreeLevel& level : f.tree) {
    consider(std::max(level.up_ps_per_byte, level.down_ps_per_byte) * pkt * level.sharing, "link");
    consider(level.children * level.alu(per_packet), "alu");
  }
  consider(static_cast<double>(f.host.gap), "host");
  // The first W chunks leave at the stages' pace; after that each waits for
  // the slot W chunks earlier to come back, one round trip after it left.
  const double stage_gap = t.gap_ps;
  consider(t.round_trip_ps / f.window, "window");
  const std::size_t later = t.chunks - 1;
  t.last_start_ps = static_cast<double>(later) * stage_gap;
  if (t.round_trip_ps > static_cast<double>(f.window) * stage_gap)
    t.last_start_ps = static_cast<double>(later / f.window) * t.round_trip_ps +
                      static_cast<double>(later % f.window) * stage_gap;
  // The operation is one message: posted once, taken in once.
  t.round_trip_ps += static_cast<double>(f.host.send_overhead + f.host.recv_overhead);
  return t;
}

namespace {

Time innet(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  const InnetTiming t = model_innet(f, bytes, esize);
  if (t.chunks == 0) return 0;
  return rounded(t.round_trip_ps + t.last_start_ps);
}

using algorithms::ExchangeTimeline;

// The non-power-of-two fold: in (the partner reduces) and, at the end, out.
bool folds(const ModelFabric& f) {
  return !f.xor_steps.empty() && (std::size_t{1} << f.xor_steps.size()) != f.ranks;
}

Time recursive_doubling(const ModelFabric& f, std::size_t bytes) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  ExchangeTimeline t(f);
  if (folds(f)) t.step(f.fold_step, bytes, true);
  for (const ExchangeStep& step : f.xor_steps) t.step(step, bytes, true);
  if (folds(f)) t.step(f.fold_step, bytes, false, true, true);
  return rounded(t.run());
}

Time rabenseifner(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  // Step k moves half of what step k-1 held (reduce-scatter, reducing it),
  // then the all-gather retraces the same sizes in reverse.
  std::vector<std::size_t> sizes;
  std::size_t count = bytes / esize;
  for (std::size_t k = 0; k < f.xor_steps.size(); ++k) {
    count = (count + 1) / 2;
    sizes.push_back(count * esize);
  }
  ExchangeTimeline t(f);
  if (folds(f)) t.step(f.fold_step, bytes, true);
  for (std::size_t k = 0; k < f.xor_steps.size(); ++k) t.step(f.xor_steps[k], sizes[k], true);
  for (std::size_t k = f.xor_steps.size(); k-- > 0;) t.step(f.xor_steps[k], sizes[k], false);
  if (folds(f)) t.step(f.fold_step, bytes, false, true, true);
  return rounded(t.run());
}

Time binomial_tree(const ModelFabric& f, std::size_t bytes) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  // A reducing child's send waits for nothing on the way to the root; in the
  // broadcast a parent sends to its next child once the previous send completed.
  ExchangeTimeline t(f);
  for (const ExchangeStep& step : f.binomial_steps) t.step(step, bytes, true, false);
  for (std::size_t k = f.binomial_steps.size(); k-- > 0;)
    t.step(f.binomial_steps[k], bytes, false, true, true);
  return rounded(t.run());
}

// Binomial reduce and broadcast inside groups of G (all groups at once),
// then innet over the ceil(p / G) leaders, on the same tree height.
Time hierarchical(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  const std::uint32_t g =
      std::min(algorithms::hierarchical_group_size(&f), std::max<std::uint32_t>(1, f.ranks));
  ModelFabric group = f;
  group.ranks = g;
  // A group's tree is the first ceil(lg G) steps of the p-rank binomial tree.
  group.binomial_steps.resize(
      std::min<std::size_t>(f.binomial_steps.size(), std::bit_width(g - 1)));
  ModelFabric leaders = f;
  leaders.ranks = (f.ranks + g - 1) / g;
  return binomial_tree(group, bytes) + innet(leaders, bytes, esize);
}

// The two tiers run one after the other, each an in-network pipeline on its
// own tree: the domain's reduction of the whole buffer, the largest shard's
// all-reduce across domains, and the domain's or-all-gather of u32 words.
std::optional<Time> two_tier(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  const ModelTwoTier& tiers = f.two_tier;
  if (tiers.domain_ranks == 0) return std::nullopt;
  const bool domain_step = tiers.domain_ranks > 1, shard_step = tiers.domains > 1;
  if ((domain_step && tiers.domain_tree.empty()) || (shard_step && tiers.shard_tree.empty()))
    return std::nullopt;
  // Each tier is the in-network pipeline on its own tree.
  auto tier = [&f](std::uint32_t ranks, const std::vector<ModelTreeLevel>& tree,
                   std::size_t payload, std::uint32_t window) {
    ModelFabric t = f;
    t.ranks = ranks;
    t.tree = tree;
    t.tree_links = static_cast<std::uint32_t>(tree.size());
    t.slot_payload = payload;
    t.window = window;
    return t;
  };
  const ModelFabric domain =
      tier(tiers.domain_ranks, tiers.domain_tree, tiers.domain_payload, tiers.domain_window);
  const ModelFabric shard =
      tier(tiers.domains, tiers.shard_tree, tiers.shard_payload, tiers.shard_window);
  const std::size_t count = bytes / esize;
  const std::size_t largest_shard = (count + tiers.domain_ranks - 1) / tiers.domain_ranks;
  Time t = 0;
  if (domain_step) t += innet(domain, bytes, esize) + innet(domain, (bytes + 3) / 4 * 4, 4);
  if (shard_step) t += innet(shard, largest_shard * esize, esize);
  return t;
}

}  // namespace

std::optional<Time> model_allreduce(const std::string& algorithm, const ModelFabric& fabric,
                                    std::size_t bytes, std::size_t elem_size) {
  if (elem_size == 0) return std::nullopt;
  if (algorithm == "ring") return ring(fabric, bytes, elem_size);
  if (algorithm == "innet") return innet(fabric, bytes, elem_size);
  if (algorithm == "innet_quantized") {
    // int32 values, then one int32 exponent per packet block: two tree passes.
    const std::size_t count = bytes / elem_size;
    const std::size_t per_packet = std::max<std::size_t>(1, fabric.slot_payload / elem_size);
    const std::size_t blocks = (count + per_packet - 1) / per_packet;
    return innet(fabric, 4 * count, 4) + innet(fabric, 4 * blocks, 4);
  }
  if (algorithm == "recursive_doubling") return recursive_doubling(fabric, bytes);
  if (algorithm == "rabenseifner") return rabenseifner(fabric, bytes, elem_size);
  if (algorithm == "binomial_tree") return binomial_tree(fabric, bytes);
  if (algorithm == "hierarchical") return hierarchical(fabric, bytes, elem_size);
  if (algorithm == "two_tier") return two_tier(fabric, bytes, elem_size);
  return std::nullopt;
}

}  // namespace inca
