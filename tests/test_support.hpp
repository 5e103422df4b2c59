// Helpers shared by the unit and integration tests: typed byte buffers,
// inputs whose reduction is exact in any order, reference reductions folded in
// an explicit order, and world construction that fails the test loudly.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "inca/dtype.hpp"
#include "inca/reduce.hpp"
#include "inca/world.hpp"
#include "manager/aggregation_manager.hpp"
#include "wire/control.hpp"
#include "wire/packet.hpp"

namespace inca::test {

/// True in the tsan preset's build.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
/// True in the asan and tsan presets' builds. A handful of tests simulate
/// 64 MiB on 64 ranks, millions of events that take a minute or more under a
/// sanitizer; they check the simulator's timing, which instrumentation does
/// not change, so the release build runs them and the sanitizer builds skip
/// them, saying so.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitizerBuild = true;
#else
inline constexpr bool kSanitizerBuild = false;
#endif

/// A fabric file of 8 two-port hosts (an 800 Gb/s NIC "ib0", then a 7.2 Tb/s
/// "nvlink" port): a leaf-spine of 2 leaves of 4 and 2 spines at 800 Gb/s,
/// and 2 scale-up domains of 4 on the NVLink ports.
inline constexpr const char* kTwoPortHostsFabric = R"(inca_fabric: 1
host_models:
  gpu: {ports: [{name: ib0, rate: 800Gbps}, {name: nvlink, rate: 7200Gbps}], window: 256}
link_models:
  ib: {rate: 800Gbps}
  nvl: {rate: 7200Gbps}
topology:
  leaf_spine:
    hosts: 8
    hosts_per_leaf: 4
    spines: 2
    host: gpu
    host_link: ib
    uplink: ib
    scale_up: {hosts_per_domain: 4, port: nvlink, link: nvl}
)";

using Bytes = std::vector<std::byte>;

template <typename T>
Bytes to_bytes(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
std::vector<T> from_bytes(std::span<const std::byte> bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

template <typename T>
wire::Payload payload_of(const std::vector<T>& values) {
  return wire::make_payload(std::span<const std::byte>(to_bytes(values)));
}

/// Writes the small integer `value` as one element of `dtype` (exact for
/// every dtype at the magnitudes the tests use).
inline void store_element(std::byte* out, Dtype dtype, std::int64_t value) {
  auto put = [out](auto v) { std::memcpy(out, &v, sizeof(v)); };
  switch (dtype) {
    case Dtype::i8:
      return put(static_cast<std::int8_t>(value));
    case Dtype::u8:
      return put(static_cast<std::uint8_t>(value));
    case Dtype::i16:
      return put(static_cast<std::int16_t>(value));
    case Dtype::u16:
      return put(static_cast<std::uint16_t>(value));
    case Dtype::i32:
      return put(static_cast<std::int32_t>(value));
    case Dtype::u32:
      return put(static_cast<std::uint32_t>(value));
    case Dtype::i64:
      return put(static_cast<std::int64_t>(value));
    case Dtype::u64:
      return put(static_cast<std::uint64_t>(value));
    case Dtype::f16:
      return put(f32_to_f16(static_cast<float>(value)));
    case Dtype::bf16:
      return put(f32_to_bf16(static_cast<float>(value)));
    case Dtype::f32:
      return put(static_cast<float>(value));
    case Dtype::f64:
      return put(static_cast<double>(value));
  }
}

/// Inputs of `rank` whose reduction under `op` gives the same bits in every
/// order, so one reference serves every algorithm and arrival order: integer
/// arithmetic wraps (a commutative ring), float sums stay small integers (exact
/// up to 64 ranks even in bf16), float products are +-1, and min/max/logical
/// ops are order-free as long as no NaN or -0 appears.
inline Bytes exact_input(std::size_t count, Dtype dtype, ReduceOp op, std::uint32_t rank) {
  Bytes out(count * dtype_size(dtype));
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t h = (rank * 2654435761u + i * 40503u + 17) >> 5;
    std::int64_t v = static_cast<std::int64_t>(h % 7) - 3;  // -3..3
    if (op == ReduceOp::prod) v = is_floating(dtype) ? ((h & 3) == 0 ? -1 : 1) : (v == 0 ? 2 : v);
    if (op == ReduceOp::band || op == ReduceOp::bor || op == ReduceOp::bxor)
      v = static_cast<std::int64_t>(h * 0x9e3779b97f4a7c15ull);  // all bits in play
    store_element(out.data() + i * dtype_size(dtype), dtype, v);
  }
  return out;
}

/// The reduction folded in `order`: acc = inputs[order[0]], then
/// acc = acc op inputs[order[k]], which is how switches and hosts fold.
inline Bytes fold(const std::vector<Bytes>& inputs, std::span<const std::size_t> order,
                  std::size_t count, Dtype dtype, ReduceOp op) {
  Bytes acc = inputs.at(order[0]);
  for (std::size_t k = 1; k < order.size(); ++k)
    reduce_into(acc.data(), inputs.at(order[k]).data(), count, dtype, op);
  return acc;
}

inline Bytes fold_in_rank_order(const std::vector<Bytes>& inputs, std::size_t count, Dtype dtype,
                                ReduceOp op) {
  std::vector<std::size_t> order(inputs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  return fold(inputs, order, count, dtype, op);
}

/// "" when equal, else where the first differing element is, for messages
/// that stay short on multi-megabyte buffers.
inline std::string first_difference(std::span<const std::byte> got, std::span<const std::byte> want,
                                    std::size_t elem_size) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) return "element " + std::to_string(i / elem_size) + " differs";
  return "";
}

/// A tree request for `hosts` (named fields: TreeRequest grows over time).
inline manager::TreeRequest tree_request(std::uint32_t job, std::uint32_t key_tag,
                                         std::vector<std::uint32_t> hosts, std::uint32_t slots,
                                         std::uint32_t max_payload_bytes = 1024) {
  manager::TreeRequest r;
  r.job = job;
  r.key_tag = key_tag;
  r.hosts = std::move(hosts);
  r.slots = slots;
  r.max_payload_bytes = max_payload_bytes;
  return r;
}

/// The first failure of each rank of a World::run (rank programs cannot
/// use gtest's fatal assertions); first() is "" when every rank succeeded.
class RankFailures {
 public:
  explicit RankFailures(std::uint32_t ranks) : errors_(ranks) {}
  void set(int rank, std::string why) {
    if (errors_[rank].empty()) errors_[rank] = std::move(why);
  }
  /// Records `s` when it is an error, prefixed by `what`.
  void check(int rank, const Status& s, const std::string& what) {
    if (!s.ok()) set(rank, what + ": " + s.to_string());
  }
  std::string first() const {
    for (std::size_t r = 0; r < errors_.size(); ++r)
      if (!errors_[r].empty()) return "rank " + std::to_string(r) + ": " + errors_[r];
    return "";
  }

 private:
  std::vector<std::string> errors_;
};

/// Runs `program(comm, failures)` on every rank of `world`; "" when the run
/// and every rank succeeded, else the run's error or the first rank failure.
template <typename Program>
std::string run_ranks(World& world, Program&& program) {
  RankFailures failures(world.size());
  const Status run = world.run([&](Communicator& comm) { program(comm, failures); });
  return run.ok() ? failures.first() : "World::run: " + run.to_string();
}

/// A world built from `options`, or nullptr after recording a test failure.
inline std::unique_ptr<World> make_world(const FabricOptions& options) {
  auto world = World::create(options);
  if (!world.ok()) {
    ADD_FAILURE() << "World::create: " << world.status().to_string();
    return nullptr;
  }
  return std::move(*world);
}

/// A small data-carrying fabric; hosts_per_leaf 3 makes the last leaf uneven.
inline FabricOptions small_fabric(TopologyKind kind, std::uint32_t ranks,
                                  std::uint32_t hosts_per_leaf = 3) {
  FabricOptions o;
  o.topology = kind;
  o.ranks = ranks;
  o.hosts_per_leaf = hosts_per_leaf;
  return o;
}

// ---- aggregation packets, as hosts and the manager build them -------------

inline constexpr std::uint32_t kTestJob = 7;
inline constexpr std::uint32_t kTestKey = 0xabcd1234;
inline constexpr std::uint16_t kTestTree = 3;

/// A tree on slots [0, window) with 64-byte slots of f32 chunks.
inline wire::TreeInstall tree_install(std::vector<std::uint16_t> ports, std::uint16_t window,
                                      std::uint16_t parent = wire::kNoPort,
                                      std::uint16_t index_at_parent = 0) {
  wire::TreeInstall t;
  t.job = kTestJob;
  t.key_tag = kTestKey;
  t.tree = kTestTree;
  t.slot_base = 0;
  t.slot_count = window;
  t.slot_payload_bytes = 64;
  t.parent_port = parent;
  t.index_at_parent = index_at_parent;
  t.child_ports = std::move(ports);
  return t;
}

/// A chunk's header as a host builds it: slot = seq % window, shadow = the
/// parity of seq / window.
inline wire::Header chunk_header(wire::PacketType type, std::uint32_t seq, std::uint16_t window,
                                 std::uint16_t child, std::uint32_t count, std::uint8_t flags = 0) {
  wire::Header h;
  h.type = type;
  h.flags = flags;
  h.dtype = Dtype::f32;
  h.op = ReduceOp::sum;
  h.child = child;
  h.job = kTestJob;
  h.key_tag = kTestKey;
  h.tree = kTestTree;
  h.slot = static_cast<std::uint16_t>(seq % window);
  h.shadow = (seq / window) % 2 != 0;
  h.sequence = seq;
  h.count = count;
  return h;
}

inline wire::Packet contribution(std::uint16_t child, std::uint32_t seq,
                                 const std::vector<float>& values, std::uint16_t window = 4,
                                 std::uint8_t flags = 0) {
  wire::Packet p;
  p.header = chunk_header(wire::PacketType::contribution, seq, window, child,
                          static_cast<std::uint32_t>(values.size()), flags);
  p.payload = payload_of(values);
  return p;
}

inline wire::Packet result_from_parent(std::uint32_t seq, const std::vector<float>& values,
                                       std::uint16_t window = 4) {
  wire::Packet p;
  p.header = chunk_header(wire::PacketType::result, seq, window, 0,
                          static_cast<std::uint32_t>(values.size()));
  p.payload = payload_of(values);
  return p;
}

inline std::vector<float> values_of(const wire::Packet& p) {
  return from_bytes<float>(p.payload_span());
}

}  // namespace inca::test
