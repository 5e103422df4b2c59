// The closed-form cost model (docs/model.md) against the simulator's virtual
// time, and the bandwidth doubling the simulator shows. Virtual time is
// deterministic, so the bounds below are properties of the model and the
// simulator, not of the machine running the test.
#include "inca/cost_model.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "inca/communicator.hpp"
#include "inca/world.hpp"
#include "test_support.hpp"

namespace inca {
namespace {

constexpr std::size_t kMiB = 1u << 20;

struct Measurement {
  Time simulated = 0;
  Time modelled = 0;
};

// Simulates `algorithm` on `bytes` of f32 in a payload-free world.
Measurement measure(World& world, const std::string& algorithm, std::size_t bytes) {
  Measurement m;
  const Time start = world.now();
  Time end = start;
  EXPECT_TRUE(world
                  .run([&](Communicator& comm) {
                    EXPECT_TRUE(comm.allreduce(nullptr, nullptr, bytes / 4, Dtype::f32,
                                               ReduceOp::sum, {.algorithm = algorithm})
                                    .ok());
                    end = std::max(end, comm.now());
                  })
                  .ok());
  m.simulated = end - start;
  m.modelled = model_allreduce(algorithm, world.model_fabric(), bytes, 4).value_or(-1);
  return m;
}

// Large messages on the default fabric (64 ranks, leaf-spine, 100 Gb/s) and
// on a star, each simulated once for the whole suite.
class CostModel : public ::testing::Test {
 protected:
  using Key = std::tuple<std::string, std::string, std::size_t>;  // fabric, algorithm, bytes

  static void SetUpTestSuite() {
    // Both tests skip there; ctest runs each in a process of its own, so the
    // suite set-up would simulate minutes for nothing.
    if (test::kSanitizerBuild) return;
    FabricOptions leaf_spine;  // the defaults are the benchmark's fabric
    leaf_spine.timing_only = true;
    FabricOptions star = test::small_fabric(TopologyKind::star, 16);
    star.timing_only = true;
    for (const auto& [name, options] : {std::pair{"leaf-spine", leaf_spine}, {"star", star}}) {
      auto world = test::make_world(options);
      if (!world) return;
      for (std::size_t bytes : {16 * kMiB, 64 * kMiB})
        for (const char* algorithm : {"innet", "ring"})
          results_[{name, algorithm, bytes}] = measure(*world, algorithm, bytes);
    }
  }

  static Measurement at(const std::string& fabric, const std::string& algorithm,
                        std::size_t bytes) {
    auto it = results_.find({fabric, algorithm, bytes});
    if (it == results_.end()) {
      ADD_FAILURE() << "not measured: " << fabric << " " << algorithm;
      return {};
    }
    return it->second;
  }

  static inline std::map<Key, Measurement> results_;
};

TEST_F(CostModel, PredictsLargeMessagesWithinTwoPercent) {
  if (test::kSanitizerBuild)
    GTEST_SKIP() << "64 MiB on 64 ranks takes a minute or more under a sanitizer; the release "
                    "build checks this timing";
  for (const char* fabric : {"leaf-spine", "star"})
    for (const char* algorithm : {"innet", "ring"})
      for (std::size_t bytes : {16 * kMiB, 64 * kMiB}) {
        const Measurement m = at(fabric, algorithm, bytes);
        ASSERT_GT(m.simulated, 0);
        ASSERT_GT(m.modelled, 0);
        const double error = static_cast<double>(m.modelled - m.simulated) / m.simulated;
        EXPECT_LT(std::abs(error), 0.02)
            << fabric << " " << algorithm << " " << bytes / kMiB << " MiB: simulated "
            << to_micros(m.simulated) << " us, model " << to_micros(m.modelled) << " us";
      }
}

TEST_F(CostModel, InnetNearlyDoublesRingAlgbwAt64MiB) {
  if (test::kSanitizerBuild)
    GTEST_SKIP() << "64 MiB on 64 ranks takes a minute or more under a sanitizer; the release "
                    "build checks this timing";
  const Measurement innet = at("leaf-spine", "innet", 64 * kMiB);
  const Measurement ring = at("leaf-spine", "ring", 64 * kMiB);
  ASSERT_GT(innet.simulated, 0);
  // algbw = bytes / time, so the algbw ratio is the inverse time ratio.
  const double ratio = static_cast<double>(ring.simulated) / innet.simulated;
  EXPECT_GE(ratio, 1.9) << "innet " << to_micros(innet.simulated) << " us, ring "
                        << to_micros(ring.simulated) << " us";
  EXPECT_LT(ratio, 2.0 * 63 / 64) << "no algorithm beats the ideal 2(p-1)/p";
}

// ---- the formulas on their own ---------------------------------------------

constexpr Time kLatency = 500 * kPicosPerNano;

ExchangeStep step(std::uint32_t links, std::uint32_t sharing) {
  return {links, sharing, ModelPath::uniform(links, 100, kLatency, sharing)};
}

ModelFabric default_fabric() {
  ModelFabric f;
  f.ranks = 64;
  f.packet_overhead = 32 + 66;
  f.p2p_payload = 4064;
  f.slot_payload = 2048;
  f.window = 64;
  f.tree_links = 2;
  f.tree = ModelFabric::uniform_tree({8, 8}, 100, kLatency);
  // 8 of 64 neighbour pairs cross leaves.
  f.ring = ModelPath::uniform((56 * 2.0 + 8 * 4.0) / 64, 100, kLatency);
  return f;
}

TEST(CostModelFormulas, TrivialCasesCostNothingAndUnknownsHaveNoModel) {
  ModelFabric f = default_fabric();
  EXPECT_EQ(model_allreduce("ring", f, 0, 4), 0);
  EXPECT_EQ(model_allreduce("innet", f, 0, 4), 0);
  EXPECT_EQ(model_allreduce("no-such", f, 1024, 4), std::nullopt);
  EXPECT_EQ(model_allreduce("ring", f, 1024, 0), std::nullopt);
  f.ranks = 1;
  EXPECT_EQ(model_allreduce("ring", f, 1024, 4), 0);
  EXPECT_EQ(model_allreduce("innet", f, 1024, 4), 0);
}

// One packet: up and down the tree, store-and-forward at each of 2h hops.
TEST(CostModelFormulas, OnePacketInnetIsTheTreeRoundTrip) {
  const ModelFabric f = default_fabric();
  const Time per_hop = (8 + 98) * 80 + kLatency;  // 8 B payload at 80 ps/B
  EXPECT_EQ(model_allreduce("innet", f, 8, 4), 4 * per_hop);
}

// Large messages: time -> wire bytes / B, i.e. S(1 + overhead/payload)/B for
// innet and 2(p-1)/p times that, with the p2p payload, for the ring.
TEST(CostModelFormulas, LargeMessagesApproachTheBandwidthTerms) {
  const ModelFabric f = default_fabric();
  const double s = 256.0 * kMiB;
  const double ps_per_byte = 8000.0 / 100;
  const double innet_wire = s * (1 + 98.0 / 2048);
  const double ring_wire = 2.0 * 63 / 64 * s * (1 + 98.0 / 4064);
  const double innet = static_cast<double>(*model_allreduce("innet", f, 256 * kMiB, 4));
  const double ring = static_cast<double>(*model_allreduce("ring", f, 256 * kMiB, 4));
  EXPECT_NEAR(innet / (innet_wire * ps_per_byte), 1.0, 0.002);
  EXPECT_NEAR(ring / (ring_wire * ps_per_byte), 1.0, 0.005);
  // The doubling: 2(p-1)/p times the ratio of the two packet efficiencies.
  EXPECT_NEAR(ring / innet, 2.0 * 63 / 64 * (1 + 98.0 / 4064) / (1 + 98.0 / 2048), 0.01);
}

// A window smaller than the round trip in packets throttles innet to W
// packets per RTT.
TEST(CostModelFormulas, SmallWindowLimitsInnetToWPacketsPerRoundTrip) {
  ModelFabric f = default_fabric();
  f.window = 2;
  const double w_full = (2048 + 98) * 80.0;
  const double rtt = 4 * (w_full + static_cast<double>(kLatency));
  const std::size_t packets = 4096;
  const double t = static_cast<double>(*model_allreduce("innet", f, packets * 2048, 4));
  // Packet i leaves at floor(i / W) round trips plus (i mod W) packet times.
  const double last_start = static_cast<double>((packets - 1) / 2) * rtt +
                            static_cast<double>((packets - 1) % 2) * w_full;
  EXPECT_NEAR(t / (last_start + rtt), 1.0, 1e-6);
}

// Hierarchical = binomial reduce + broadcast over G (its first ceil(lg G)
// steps) + innet over ceil(p / G) leaders; G = 1 is innet, G >= p the
// binomial tree.
TEST(CostModelFormulas, HierarchicalIsAGroupBinomialTreePlusInnetOverLeaders) {
  ModelFabric f = default_fabric();
  f.binomial_steps.assign(6, step(2, 1));  // lg 64 steps within a leaf
  f.binomial_steps[3] = f.binomial_steps[4] = f.binomial_steps[5] = step(4, 2);
  // One 8-byte packet: each of 2 lg 8 = 6 steps is ser(106 B) twice (the
  // send, and the store-and-forward at the leaf) plus two link latencies;
  // the leaders' innet is the 4-hop round trip.
  const Time one_step = 2 * 106 * 80 + 2 * kLatency;
  const Time round_trip = 4 * (106 * 80 + kLatency);
  f.group = 8;
  EXPECT_EQ(model_allreduce("hierarchical", f, 8, 4), 6 * one_step + round_trip);
  f.group = 1;
  EXPECT_EQ(model_allreduce("hierarchical", f, 1 << 20, 4),
            model_allreduce("innet", f, 1 << 20, 4));
  f.group = 64;
  EXPECT_EQ(model_allreduce("hierarchical", f, 1 << 20, 4),
            model_allreduce("binomial_tree", f, 1 << 20, 4));
  f.group = 0;  // the default, 8
  EXPECT_EQ(model_allreduce("hierarchical", f, 8, 4), 6 * one_step + round_trip);
  f.ranks = 1;
  EXPECT_EQ(model_allreduce("hierarchical", f, 1 << 20, 4), 0);
}

// A flow whose queue is known waits only behind what is in that queue when
// it gets there. Four ranks; ranks 0 and 1 finish the first step 10 us after
// ranks 2 and 3. In the second step 3 -> 1 and 0 -> 2 share one uplink (and
// 2 -> 0 and 1 -> 3 another), but the early sender's packet has left it long
// before the late one's arrives: each pays its own serialisation, not twice
// it (the static share, which the model charged before).
TEST(CostModelFormulas, ALateFlowFindsASharedLinkFree) {
  ModelFabric f = default_fabric();
  f.ranks = 4;
  const double ps = 80;  // 100 Gb/s
  const Time far = 10 * kPicosPerMicro, near = kPicosPerMicro;
  auto own_link = [&](std::uint32_t from, std::uint32_t to, Time latency) {
    ModelQueue q;
    q.link = 1 + from;
    q.ps_per_byte = ps;
    return ExchangeStep::Flow{from, to, ModelPath::uniform(1, 100, latency), q};
  };
  ExchangeStep first = step(1, 1);
  first.flows = {own_link(0, 1, far), own_link(1, 0, far), own_link(2, 3, near),
                 own_link(3, 2, near)};
  // Host link, uplink (the queue), receiver's link.
  auto across = [&](std::uint32_t from, std::uint32_t to, std::uint64_t uplink) {
    ModelQueue q;
    q.link = uplink;
    q.ps_per_byte = q.feed_ps_per_byte = q.upstream_ps_per_byte = q.last_ps_per_byte = ps;
    return ExchangeStep::Flow{from, to, ModelPath::uniform(3, 100, kLatency, 2), q};
  };
  ExchangeStep second = step(3, 2);
  second.flows = {across(0, 2, 100), across(1, 3, 200), across(2, 0, 200), across(3, 1, 100)};
  f.xor_steps = {first, second};
  const Time w = (8 + 98) * 80;  // one 8-byte packet on one link
  // Rank 2 (and 3) takes in the late rank's message: ready at far + w, then
  // three links of one packet each and their latencies.
  EXPECT_EQ(model_allreduce("recursive_doubling", f, 8, 4), far + w + 3 * w + 3 * kLatency);
}

}  // namespace
}  // namespace inca
