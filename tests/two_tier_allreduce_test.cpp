// The two-tier all-reduce on 4 scale-up domains of 4 hosts beside a
// leaf-spine: exact against a reference reduction in its own order (domain
// switch, then across domains), for several pairs, counts and in place;
// the domain steps go through the domain switches and only shards reach the
// InfiniBand switches (counters); every rank refuses alike without domains;
// its model against the simulator, payload-free (where split() travels out
// of band).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "algorithms/two_tier_allreduce.hpp"
#include "inca/communicator.hpp"
#include "inca/fabric_description.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

using test::Bytes;

constexpr std::uint32_t kDomains = 4, kPerDomain = 4, kRanks = kDomains * kPerDomain;

// 16 two-port hosts: leaf d and domain d hold hosts 4d..4d+3; 2 spines.
// 2 KiB slots in 4 KiB packets: a chunk is 2048 bytes on every tree.
const char* const kFabric = R"(inca_fabric: 1
host_models:
  gpu: {ports: [{name: ib0, rate: 800Gbps}, {name: nvlink, rate: 7200Gbps}], window: 64}
switch_models:
  ib: {slots: 1024, slot_payload: 2048B, forwarding_latency: 200ns, aggregation_latency: 400ns}
  nvs: {slots: 512, slot_payload: 2048B, dtypes: [i32, u32, f32, f64], forwarding_latency: 200ns}
link_models:
  ib: {rate: 800Gbps, latency: 300ns}
  nvl: {rate: 7200Gbps, latency: 100ns}
topology:
  leaf_spine:
    hosts: 16
    hosts_per_leaf: 4
    spines: 2
    host: gpu
    leaf: ib
    spine: ib
    host_link: ib
    uplink: ib
    scale_up: {hosts_per_domain: 4, port: nvlink, switch: nvs, link: nvl}
)";

std::unique_ptr<World> make_world(bool timing_only = false, const std::string& text = kFabric) {
  const FabricLoad load = FabricDescription::parse(text, "two-tier.yaml", {});
  EXPECT_TRUE(load.ok()) << load.report();
  if (!load.ok()) return nullptr;
  FabricOptions o;
  o.timing_only = timing_only;
  auto world = World::create(*load.description, o);
  EXPECT_TRUE(world.ok()) << world.status().to_string();
  return world.ok() ? std::move(*world) : nullptr;
}

void expect_no_errors(World& world, const std::function<std::string(Communicator&)>& rank_main) {
  std::vector<std::string> errors(world.size());
  Status run = world.run([&](Communicator& comm) { errors[comm.rank()] = rank_main(comm); });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (std::size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

// The two tiers' order: each domain switch folds its hosts in port (rank)
// order, then the shard's spine folds the domains' sums in leaf order.
Bytes two_tier_reference(const std::vector<Bytes>& inputs, std::size_t count, Dtype dtype,
                         ReduceOp op) {
  std::vector<Bytes> domain_sums;
  for (std::uint32_t d = 0; d < kDomains; ++d) {
    std::vector<std::size_t> members(kPerDomain);
    std::iota(members.begin(), members.end(), std::size_t{d * kPerDomain});
    domain_sums.push_back(test::fold(inputs, members, count, dtype, op));
  }
  return test::fold_in_rank_order(domain_sums, count, dtype, op);
}

// Fractions, so that a sum in another order differs in its low bits.
Bytes fractions(std::size_t count, std::uint32_t rank) {
  std::vector<float> v(count);
  for (std::size_t i = 0; i < count; ++i)
    v[i] = 0.1f * static_cast<float>(rank + 1) / static_cast<float>(i % 97 + 3);
  Bytes out(count * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

struct Call {
  Dtype dtype;
  ReduceOp op;
  std::size_t count;
  bool in_place;
};

// "" when the two-tier all-reduce gives the reference bit for bit and leaves
// send alone.
std::string allreduce_exact(Communicator& comm, const Call& c) {
  std::vector<Bytes> inputs;
  for (std::uint32_t r = 0; r < kRanks; ++r)
    inputs.push_back(c.dtype == Dtype::f32 && c.op == ReduceOp::sum
                         ? fractions(c.count, r)
                         : test::exact_input(c.count, c.dtype, c.op, r));
  const Bytes want = two_tier_reference(inputs, c.count, c.dtype, c.op);
  Bytes send = inputs[comm.rank()];
  Bytes recv(send.size(), std::byte{0x5a});
  Bytes& out = c.in_place ? send : recv;
  const std::string what = fmt::format("{} {} x {}{}", to_string(c.dtype), to_string(c.op), c.count,
                                       c.in_place ? " in place" : "");
  Status s = comm.allreduce(send.data(), out.data(), c.count, c.dtype, c.op,
                            {.algorithm = "two_tier", .reproducible = true});
  if (!s.ok()) return what + ": " + s.to_string() + "\n";
  if (comm.last_algorithm() != "two_tier") return what + " ran " + comm.last_algorithm() + "\n";
  std::string diff = test::first_difference(out, want, dtype_size(c.dtype));
  if (!diff.empty()) return what + ": " + diff + "\n";
  if (!c.in_place && send != inputs[comm.rank()]) return what + ": send changed\n";
  return "";
}

TEST(TwoTierAllreduce, ExactAgainstTheDomainThenShardReductionForPairsCountsAndInPlace) {
  auto world = make_world();
  ASSERT_TRUE(world);
  // 1003 = 4 x 250 + 3: uneven shards; 3: one shard empty; 1: one element.
  const Call calls[] = {
      {Dtype::f32, ReduceOp::sum, 1003, false}, {Dtype::f32, ReduceOp::sum, 1003, true},
      {Dtype::i32, ReduceOp::max, 517, false},  {Dtype::f64, ReduceOp::min, 3, true},
      {Dtype::f32, ReduceOp::sum, 1, false},    {Dtype::i32, ReduceOp::sum, 0, false}};
  expect_no_errors(*world, [&](Communicator& comm) {
    std::string errors;
    for (const Call& c : calls) errors += allreduce_exact(comm, c);
    return errors;
  });
}

TEST(TwoTierAllreduce, DomainStepsTakeTheDomainSwitchAndOnlyShardsReachInfiniBand) {
  auto world = make_world();
  ASSERT_TRUE(world);
  // 4096 f32 = 16 KiB = 8 chunks of 2 KiB; a shard is 4 KiB = 2 chunks.
  constexpr std::size_t kCount = 4096;
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    std::vector<float> buf(kCount, 1.0f);
    Status s = comm.allreduce(buf.data(), buf.data(), kCount, Dtype::f32, ReduceOp::sum,
                              {.algorithm = "two_tier"});
    if (!s.ok()) return s.to_string();
    const bool right = std::all_of(buf.begin(), buf.end(), [](float x) { return x == kRanks; });
    return right ? "" : "wrong sum";
  });
  // Each domain switch: its 4 hosts' 8 chunks of the reduction and 8 of the
  // all-gather, through their NVLink ports (a domain switch links nothing else).
  for (std::uint32_t d = 0; d < kDomains; ++d)
    EXPECT_EQ(world->switch_contributions(fmt::format("domain{}", d)), 4u * (8 + 8)) << d;
  // In the all-gather each chunk lies in one rank's shard; the other three
  // send its header alone, as NVLink SHARP's multicast uploads only the owner's.
  EXPECT_EQ(world->stats().switch_identity_contributions, kDomains * 8u * 3);
  // In the reduce-scatter each rank keeps its shard's 2 chunks: the other 6
  // of the 8 come down as headers alone, as NVLink SHARP's reduce-scatter
  // sends each GPU its shard only.
  EXPECT_EQ(world->stats().switch_header_only_results, kDomains * 4u * 6);
  // Each leaf: its 4 hosts' 2-chunk shards (one host per shard tree); the
  // spines: every leaf's partial of every shard.
  for (std::uint32_t l = 0; l < kDomains; ++l)
    EXPECT_EQ(world->switch_contributions(fmt::format("leaf{}", l)), 4u * 2) << l;
  EXPECT_EQ(world->switch_contributions("spine0") + world->switch_contributions("spine1"),
            4u * 4 * 2);
  // The flat all-reduce, for contrast, never touches a domain switch.
  const std::uint64_t before = world->switch_contributions("leaf0");
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    std::vector<float> buf(kCount, 1.0f);
    Status s = comm.allreduce(buf.data(), buf.data(), kCount, Dtype::f32, ReduceOp::sum,
                              {.algorithm = "innet"});
    return s.ok() ? "" : s.to_string();
  });
  EXPECT_EQ(world->switch_contributions("domain0"), 4u * 16);
  EXPECT_EQ(world->switch_contributions("leaf0") - before, 4u * 8);
}

TEST(TwoTierAllreduce, EveryRankRefusesAFabricWithoutScaleUpDomains) {
  auto world = test::make_world(test::small_fabric(TopologyKind::leaf_spine, 8, 4));
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    float x = 1;
    Status s = comm.allreduce(&x, &x, 1, Dtype::f32, ReduceOp::sum, {.algorithm = "two_tier"});
    if (s.code() != StatusCode::not_supported) return "got " + s.to_string();
    if (s.to_string().find("no scale-up domains") == std::string::npos) return s.to_string();
    return "";
  });
}

// The all-gather or-reduces u32 words in the domain switch: a domain switch
// that cannot is found at set-up, and every rank refuses alike.
TEST(TwoTierAllreduce, EveryRankRefusesDomainSwitchesThatCannotGatherWords) {
  std::string text = kFabric;
  const std::string dtypes = "dtypes: [i32, u32, f32, f64]";
  text.replace(text.find(dtypes), dtypes.size(), "dtypes: [i32, f32, f64]");
  auto world = make_world(false, text);
  ASSERT_TRUE(world);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    float x = 1;
    Status s = comm.allreduce(&x, &x, 1, Dtype::f32, ReduceOp::sum, {.algorithm = "two_tier"});
    if (s.code() != StatusCode::not_supported) return "got " + s.to_string();
    if (s.to_string().find("do not or-reduce u32") == std::string::npos) return s.to_string();
    return "";
  });
}

// Payload-free, where the splits' colors and the tree agreement travel out
// of band: the simulated time against the model's sum of three pipelines.
TEST(TwoTierAllreduce, ModelWithinOnePercentOfThePayloadFreeSimulator) {
  auto world = make_world(true);
  ASSERT_TRUE(world);
  constexpr std::size_t kBytes = 1 << 20;
  std::vector<Time> start(kRanks), finish(kRanks);
  expect_no_errors(*world, [&](Communicator& comm) -> std::string {
    const AllreduceOptions options{.algorithm = "two_tier"};
    // The first call splits; the second is the collective alone.
    Status s = comm.allreduce(nullptr, nullptr, kBytes / 4, Dtype::f32, ReduceOp::sum, options);
    if (s.ok()) s = comm.barrier();
    start[comm.rank()] = comm.now();
    if (s.ok())
      s = comm.allreduce(nullptr, nullptr, kBytes / 4, Dtype::f32, ReduceOp::sum, options);
    finish[comm.rank()] = comm.now();
    return s.ok() ? "" : s.to_string();
  });
  const double took = static_cast<double>(*std::max_element(finish.begin(), finish.end()) -
                                          *std::min_element(start.begin(), start.end()));
  const ModelFabric model = world->model_fabric();
  EXPECT_EQ(model.two_tier.domains, kDomains);
  EXPECT_EQ(model.two_tier.domain_ranks, kPerDomain);
  EXPECT_EQ(model.two_tier.shard_window, 64u / kPerDomain);
  const auto predicted = model_allreduce("two_tier", model, kBytes, 4);
  ASSERT_TRUE(predicted);
  EXPECT_NEAR(static_cast<double>(*predicted), took, 0.01 * took)
      << "model " << *predicted << " ps, simulated " << took << " ps";
}

}  // namespace
}  // namespace inca
