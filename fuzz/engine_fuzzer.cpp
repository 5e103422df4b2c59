// Arbitrary packet sequences into two aggregation nodes with trees installed:
// a root and an inner node of three children each, plus a second job's tree.
// The input picks every header field (ports, types, child indices, chunks,
// slots, flags, ops, counts, keys, trees, attempt tags) and the payloads, or
// hands raw bytes to the wire decoder first. After every packet:
// - every packet the node saw landed in exactly one counter bucket;
// - everything emitted goes out of a port of the tree, carries the payload its
//   header describes, and encodes;
// - when the payloads are each child's fixed values for a chunk, every result
//   of the root and every partial of the inner node is exactly the reduction
//   of its children's values: nothing is counted twice, nothing foreign mixes in.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/aggregation_node.hpp"
#include "fuzz_check.hpp"
#include "inca/reduce.hpp"
#include "wire/error_payload.hpp"

using namespace inca;
using engine::AggregationNode;
using engine::Emit;

namespace {

constexpr std::uint16_t kWindow = 4;
constexpr std::uint16_t kParent = 7;
constexpr std::uint32_t kChildren = 3;
const std::vector<std::uint16_t> kPorts{1, 2, 3};
constexpr std::uint32_t kJob = 5;
constexpr std::uint32_t kKey = 0x5eed;
constexpr std::uint16_t kTree = 9;
constexpr std::uint32_t kSlotBytes = 64;  // 16 x i32
constexpr ReduceOp kOps[] = {ReduceOp::sum,  ReduceOp::prod, ReduceOp::min, ReduceOp::max,
                             ReduceOp::band, ReduceOp::bor,  ReduceOp::bxor};

using Reader = FuzzReader;

// Child c's fixed value of element i of chunk seq (small: products stay exact).
std::int32_t value(std::uint32_t child, std::uint32_t seq, std::uint32_t i) {
  return static_cast<std::int32_t>(child * 5 + seq * 3 + i) - 20;
}

std::vector<std::byte> values_of(std::uint32_t child, std::uint32_t seq, std::uint32_t count) {
  std::vector<std::byte> out(count * 4);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::int32_t v = value(child, seq, i);
    std::memcpy(out.data() + i * 4, &v, 4);
  }
  return out;
}

wire::TreeInstall tree(std::uint32_t job, std::uint16_t id, std::uint16_t base, bool root) {
  wire::TreeInstall t;
  t.job = job;
  t.key_tag = kKey + job;
  t.tree = id;
  t.slot_base = base;
  t.slot_count = kWindow;
  t.slot_payload_bytes = kSlotBytes;
  t.parent_port = root ? wire::kNoPort : kParent;
  t.index_at_parent = root ? 0 : 1;
  t.child_ports = kPorts;
  return t;
}

// The exact reduction of every child's fixed values for the chunk `h` names.
bool is_exact(const wire::Packet& p) {
  const wire::Header& h = p.header;
  if (!p.payload || h.dtype != Dtype::i32) return true;
  std::vector<std::byte> want = values_of(0, h.sequence, h.count);
  for (std::uint32_t c = 1; c < kChildren; ++c) {
    const std::vector<std::byte> in = values_of(c, h.sequence, h.count);
    reduce_into(want.data(), in.data(), h.count, h.dtype, h.op);
  }
  return *p.payload == want;
}

void check(const AggregationNode& node, bool root, const std::vector<Emit>& out, bool fixed_values,
           const wire::Packet& in, std::uint64_t dropped_before) {
  const auto& c = node.counters();
  FUZZ_CHECK(c.packets_in == engine::classified_packets(c));
  // dropped_as() names the bucket exactly when the packet was dropped.
  const bool dropped = engine::dropped_packets(c) != dropped_before;
  FUZZ_CHECK(dropped == (node.dropped_as() != nullptr));
  FUZZ_CHECK(!dropped || engine::dropped_packets(c) == dropped_before + 1);
  for (const Emit& e : out) {
    const bool child_port = e.port == 1 || e.port == 2 || e.port == 3;
    FUZZ_CHECK(child_port || (!root && e.port == kParent));
    const wire::Packet& p = e.packet;
    FUZZ_CHECK(!p.payload || p.payload->size() == p.payload_bytes());
    if (p.payload) {
      std::vector<std::byte> bytes(wire::kHeaderBytes + p.payload_bytes());
      FUZZ_CHECK(wire::encode(p.header, p.payload_span(), bytes) == bytes.size());
    }
    // Results from the parent are the parent's business; everything the
    // node computed itself must be exact.
    const bool computed = root ? p.header.type == wire::PacketType::result
                               : p.header.type == wire::PacketType::contribution;
    if (fixed_values && computed && in.header.type == wire::PacketType::contribution)
      FUZZ_CHECK(is_exact(p));
  }
}

wire::Packet structured(Reader& r, bool random_payloads) {
  wire::Packet p;
  wire::Header& h = p.header;
  const std::uint8_t type = r.byte() % 6;
  h.type = type < 3    ? wire::PacketType::contribution
           : type == 3 ? wire::PacketType::result
           : type == 4 ? wire::PacketType::error
                       : wire::PacketType::p2p;
  h.child = r.byte() % 5;
  h.sequence = r.byte() % 16;
  h.flags = r.byte() & (wire::kFlagLast | wire::kFlagReproducible);
  h.dtype = Dtype::i32;
  h.op = kOps[r.byte() % 7];
  h.count = r.byte() % 17;
  const std::uint8_t ident = r.byte() % 8;
  h.job = ident == 7 ? kJob + 1 : kJob;
  h.key_tag = ident == 5 ? kKey + 77 : kKey + h.job;
  h.tree = ident == 6 ? kTree + 1 : kTree;
  h.attempt_tag = static_cast<std::uint8_t>(r.byte() % 3);
  h.slot = static_cast<std::uint16_t>(h.sequence % kWindow);
  h.shadow = (h.sequence / kWindow) % 2 != 0;
  if (r.byte() % 8 == 0) {
    h.slot = r.byte() % 6;
    h.shadow = r.byte() & 1;
  }
  const std::uint8_t payload = r.byte() % 4;
  if (h.type == wire::PacketType::error) {
    h.dtype = Dtype::u8;
    h.op = ReduceOp::sum;
    h.sequence = static_cast<std::uint32_t>(StatusCode::mismatch);
    p.payload = wire::make_error_payload(r.byte() % 16, "fuzz");
    h.count = static_cast<std::uint32_t>(p.payload->size());
  } else if (payload == 3) {
    p.payload = nullptr;  // payload-free (timing-only) packet
  } else if (payload == 2 && random_payloads) {
    std::vector<std::byte> bytes(p.payload_bytes());
    for (auto& b : bytes) b = static_cast<std::byte>(r.byte());
    p.payload = wire::make_payload(bytes);
  } else {
    p.payload = wire::make_payload(values_of(h.child, h.sequence, h.count));
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{data, size};
  const std::uint8_t mode = r.byte();
  const bool raw_allowed = mode & 1;
  const bool random_payloads = mode & 2;
  const bool fixed_values = !raw_allowed && !random_payloads;

  AggregationNode root({64, 256, "root"});
  AggregationNode inner({64, 256, "inner"});
  FUZZ_CHECK(root.install(tree(kJob, kTree, 0, true)).ok());
  FUZZ_CHECK(inner.install(tree(kJob, kTree, 0, false)).ok());
  FUZZ_CHECK(root.install(tree(kJob + 1, kTree, 8, true)).ok());  // a second job
  FUZZ_CHECK(inner.install(tree(kJob + 1, kTree, 8, false)).ok());
  FUZZ_CHECK(!root.install(tree(kJob, kTree + 3, 2, true)).ok());  // overlapping slots

  std::vector<Emit> out;
  for (int packets = 0; !r.empty() && packets < 512; ++packets) {
    const std::uint8_t port = r.byte() % 9;
    wire::Packet p;
    if (raw_allowed && r.byte() % 4 == 0) {
      std::vector<std::byte> bytes(r.byte());
      for (auto& b : bytes) b = static_cast<std::byte>(r.byte());
      std::span<const std::byte> payload;
      if (wire::decode(bytes, p.header, payload) != wire::DecodeError::none) continue;
      p.payload = wire::make_payload(payload);
    } else {
      p = structured(r, random_payloads);
    }
    out.clear();
    std::uint64_t before = engine::dropped_packets(root.counters());
    root.on_packet(port, p, out);
    check(root, true, out, fixed_values, p, before);
    out.clear();
    before = engine::dropped_packets(inner.counters());
    inner.on_packet(port, p, out);
    check(inner, false, out, fixed_values, p, before);
  }
  FUZZ_CHECK(root.free_slots() == 64 - 2 * kWindow);
  return 0;
}
