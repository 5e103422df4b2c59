#include "inca/cost_model.hpp"

#include "algorithms/hierarchical_allreduce.hpp"
#include "algorithms/ring_allreduce.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace inca {
namespace {

// Picoseconds to serialise `bytes` on a link of `gbps`.
double ser(double bytes, double gbps) {
  return bytes * 8000.0 / gbps;
}

// Bytes on the wire for a message of m payload bytes cut into packets of at
// most `payload` bytes (a zero-byte message is still one packet).
double wire(std::size_t m, std::size_t payload, std::size_t overhead) {
  const std::size_t packets = std::max<std::size_t>(1, (m + payload - 1) / payload);
  return static_cast<double>(m + packets * overhead);
}

Time ring(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  const std::size_t p = f.ranks;
  if (p <= 1 || bytes == 0) return 0;
  const std::size_t count = bytes / esize;
  // The largest segment dominates every step.
  const std::size_t seg = ((count + p - 1) / p) * esize;
  const std::size_t chunk = std::min(seg, algorithms::ring_chunk_bytes(seg, f.p2p_payload, esize));
  const std::size_t chunks = (seg + chunk - 1) / chunk;
  const double pkt = std::min<double>(chunk, f.p2p_payload) + f.packet_overhead;
  // One chunk crossing the neighbour path: serialised once, then store-and-
  // forward of one packet per switch, plus every link's latency. Each step
  // waits on its left neighbour, so delays chain around the ring and the mean
  // path (not the longest) sets the pace.
  const double path = ser(pkt, f.link_gbps) * (f.ring_links - 1) +
                      static_cast<double>(f.link_latency) * f.ring_links;
  const double t_chunk = ser(wire(chunk, f.p2p_payload, f.packet_overhead), f.link_gbps) + path;
  const double t_seg = ser(wire(chunk, f.p2p_payload, f.packet_overhead), f.link_gbps) * chunks;
  // A step lasts the longer of "the link sends the whole segment" and "one
  // chunk crosses the path"; with several chunks the next step's first chunk
  // overlaps the current step, leaving one path delay at the end.
  const double steps = 2.0 * (p - 1);
  const double total = steps * std::max(t_seg, t_chunk) + (chunks > 1 ? path : 0.0);
  return static_cast<Time>(std::llround(total));
}

Time innet(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  const std::size_t per_packet = f.slot_payload / esize * esize;
  const std::size_t packets = (bytes + per_packet - 1) / per_packet;
  const double w_full = ser(static_cast<double>(per_packet + f.packet_overhead), f.link_gbps);
  const std::size_t last_bytes = bytes - (packets - 1) * per_packet;
  const double w_last = ser(static_cast<double>(last_bytes + f.packet_overhead), f.link_gbps);
  // First chunk: up and down the tree, store-and-forward at every hop.
  const double hops = 2.0 * f.tree_links;
  const double rtt = hops * (w_full + static_cast<double>(f.link_latency));
  // Then one packet per serialisation time, unless the window runs dry first.
  const double gap = std::max(w_full, rtt / f.window);
  const double first = packets == 1 ? hops * (w_last + static_cast<double>(f.link_latency)) : rtt;
  const double total = first + (packets > 1 ? (packets - 2) * gap + std::max(w_last, gap) : 0.0);
  return static_cast<Time>(std::llround(total));
}

// One exchange step moving `bytes` per flow: the most-shared link carries
// `sharing` flows back to back, then the last packet crosses the path.
double exchange(const ModelFabric& f, const ExchangeStep& step, std::size_t bytes) {
  const double pkt = std::min<double>(bytes, f.p2p_payload) + f.packet_overhead;
  return ser(wire(bytes, f.p2p_payload, f.packet_overhead) * step.sharing, f.link_gbps) +
         ser(pkt, f.link_gbps) * (step.links - 1) +
         static_cast<double>(f.link_latency) * step.links;
}

double fold_cost(const ModelFabric& f, std::size_t bytes) {
  const bool folds = !f.xor_steps.empty() && (std::size_t{1} << f.xor_steps.size()) != f.ranks;
  return folds ? 2 * exchange(f, f.fold_step, bytes) : 0.0;
}

Time recursive_doubling(const ModelFabric& f, std::size_t bytes) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  double total = fold_cost(f, bytes);
  for (const ExchangeStep& step : f.xor_steps) total += exchange(f, step, bytes);
  return static_cast<Time>(std::llround(total));
}

Time rabenseifner(const ModelFabric& f, std::size_t bytes, std::size_t esize) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  double total = fold_cost(f, bytes);
  // Step k moves half of what step k-1 held (reduce-scatter), then the
  // all-gather retraces the same sizes.
  std::size_t count = bytes / esize;
  for (const ExchangeStep& step : f.xor_steps) {
    count = (count + 1) / 2;
    total += 2 * exchange(f, step, count * esize);
  }
  return static_cast<Time>(std::llround(total));
}

Time binomial_tree(const ModelFabric& f, std::size_t bytes) {
  if (f.ranks <= 1 || bytes == 0) return 0;
  double total = 0;
  for (const ExchangeStep& step : f.binomial_steps) total += 2 * exchange(f, step, bytes);
  return static_cast<Time>(std::llround(total));
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
  return std::nullopt;
}

}  // namespace inca
