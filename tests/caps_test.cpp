// Switch capabilities: the caps sets themselves, a tree that aggregates what
// all its switches do (one restricted switch on the tree restricts it; one
// off the tree does not), `auto` falling back to a host algorithm with a
// note, and a pinned `innet` refused with not_supported before any packet
// leaves a host.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "inca/caps.hpp"
#include "inca/communicator.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

TEST(SwitchCaps, SetsAndPairs) {
  const SwitchCaps all;
  EXPECT_TRUE(all.supports(Dtype::f64, ReduceOp::prod));
  EXPECT_FALSE(all.supports(Dtype::f32, ReduceOp::band));  // never a valid pair
  EXPECT_EQ(all.describe(), "all dtypes and ops");
  const SwitchCaps no_f64 = all.without(Dtype::f64).without(ReduceOp::prod);
  EXPECT_FALSE(no_f64.supports(Dtype::f64, ReduceOp::sum));
  EXPECT_FALSE(no_f64.supports(Dtype::i32, ReduceOp::prod));
  EXPECT_TRUE(no_f64.supports(Dtype::f32, ReduceOp::sum));
  EXPECT_EQ((all & no_f64), no_f64);
  EXPECT_EQ(no_f64.describe().find("f64"), std::string::npos);
  EXPECT_NE(no_f64.describe().find("f32"), std::string::npos);
  EXPECT_FALSE(SwitchCaps::none().supports(Dtype::u8, ReduceOp::bor));
  EXPECT_EQ(SwitchCaps::none().describe(), "dtypes none; ops none");
}

std::unique_ptr<World> make_world(const FabricOptions& o) {
  auto world = World::create(o);
  EXPECT_TRUE(world.ok()) << world.status().to_string();
  return world.ok() ? std::move(*world) : nullptr;
}

FabricOptions leaf_spine() {
  FabricOptions o;
  o.ranks = 8;
  o.hosts_per_leaf = 4;
  return o;
}

// What every rank saw of the tree's caps.
std::vector<SwitchCaps> caps_of(World& world) {
  std::vector<SwitchCaps> caps(world.size());
  EXPECT_TRUE(world.run([&](Communicator& comm) { caps[comm.rank()] = comm.caps(); }).ok());
  return caps;
}

TEST(SwitchCaps, ATreeAggregatesWhatAllItsSwitchesDo) {
  const SwitchCaps no_f64 = SwitchCaps{}.without(Dtype::f64);
  FabricOptions o = leaf_spine();
  o.switch_caps_by_name["leaf1"] = no_f64;  // every tree crosses both leaves
  auto world = make_world(o);
  ASSERT_TRUE(world);
  for (const SwitchCaps& c : caps_of(*world)) EXPECT_EQ(c, no_f64);

  // The tree's root is one spine; the other spine's caps do not matter.
  int roots = 0;
  for (const char* spine : {"spine0", "spine1"}) {
    FabricOptions s = leaf_spine();
    s.switch_caps_by_name[spine] = SwitchCaps{}.without(ReduceOp::prod);
    auto w = make_world(s);
    ASSERT_TRUE(w);
    const bool is_root = w->describe().find(std::string("root ") + spine) != std::string::npos;
    roots += is_root;
    for (const SwitchCaps& c : caps_of(*w))
      EXPECT_EQ(c.supports(Dtype::f32, ReduceOp::prod), !is_root) << spine;
  }
  EXPECT_EQ(roots, 1);

  FabricOptions bad = leaf_spine();
  bad.switch_caps_by_name["spine9"] = no_f64;
  auto refused = World::create(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::invalid_argument);
  EXPECT_NE(refused.status().message().find("spine9"), std::string::npos);
}

TEST(SwitchCaps, AutoFallsBackAndPinnedInnetSendsNothing) {
  FabricOptions o = leaf_spine();
  o.switch_caps = SwitchCaps{}.without(Dtype::f64).without(ReduceOp::prod);
  auto world = make_world(o);
  ASSERT_TRUE(world);
  const std::size_t count = 777;
  std::vector<std::string> errors(8);
  // f64 sum through auto: a host algorithm, exact (small integers).
  Status run = world->run([&](Communicator& comm) {
    std::vector<double> send(count, comm.rank() + 1.0), recv(count);
    Status s = comm.allreduce(send.data(), recv.data(), count, Dtype::f64, ReduceOp::sum);
    if (!s.ok()) errors[comm.rank()] += s.to_string();
    if (comm.last_algorithm() == "innet") errors[comm.rank()] += "auto chose innet; ";
    if (comm.last_note().find("do not aggregate f64 sum") == std::string::npos)
      errors[comm.rank()] += "note: " + comm.last_note() + "; ";
    for (double v : recv)
      if (v != 36.0) {
        errors[comm.rank()] += "wrong sum; ";
        break;
      }
    // A pair the switches do aggregate still goes in-network.
    std::vector<float> f(count, 1.0f);
    s = comm.allreduce(f.data(), f.data(), count, Dtype::f32, ReduceOp::sum);
    if (!s.ok() || comm.last_algorithm() != "innet" || f[0] != 8.0f)
      errors[comm.rank()] += "f32 sum: " + s.to_string() + " via " + comm.last_algorithm();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (int r = 0; r < 8; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;

  // Pinned innet on pairs the tree lacks: not_supported, and no packet sent.
  const WorldStats before = world->stats();
  run = world->run([&](Communicator& comm) {
    std::vector<double> d(count, 1.0);
    std::vector<std::int32_t> i(count, 1);
    const CollectiveOptions innet{.algorithm = "innet"};
    const Status refused[] = {
        comm.allreduce(d.data(), d.data(), count, Dtype::f64, ReduceOp::sum,
                       {.algorithm = "innet"}),
        comm.innet_allreduce(i.data(), i.data(), count, Dtype::i32, ReduceOp::prod),
        comm.reduce(d.data(), d.data(), count, Dtype::f64, ReduceOp::max, 0, innet),
        comm.reduce_scatter(i.data(), i.data(), count / 8, Dtype::i32, ReduceOp::prod, innet)};
    for (const Status& s : refused)
      if (s.code() != StatusCode::not_supported ||
          s.message().find("do not aggregate") == std::string::npos)
        errors[comm.rank()] += "expected not_supported: " + s.to_string() + "; ";
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (int r = 0; r < 8; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
  const WorldStats after = world->stats();
  EXPECT_EQ(after.host_packets_sent, before.host_packets_sent);
  EXPECT_EQ(after.switch_contributions, before.switch_contributions);
}

TEST(SwitchCaps, BroadcastNeedsByteOrOnTheSwitches) {
  FabricOptions o = leaf_spine();
  o.switch_caps = SwitchCaps{}.without(ReduceOp::bor);
  auto world = make_world(o);
  ASSERT_TRUE(world);
  std::vector<std::string> errors(8);
  Status run = world->run([&](Communicator& comm) {
    std::vector<std::int32_t> buf(100, comm.rank() == 3 ? 42 : 0);
    Status s = comm.broadcast(buf.data(), buf.size(), Dtype::i32, 3);  // auto
    if (!s.ok() || comm.last_algorithm() != "binomial" || buf[99] != 42)
      errors[comm.rank()] += "auto: " + s.to_string() + " via " + comm.last_algorithm();
    s = comm.broadcast(buf.data(), buf.size(), Dtype::i32, 3, {.algorithm = "innet"});
    if (s.code() != StatusCode::not_supported) errors[comm.rank()] += "pinned: " + s.to_string();
    s = comm.barrier();
    if (!s.ok() || comm.last_algorithm() != "dissemination")
      errors[comm.rank()] += "barrier: " + s.to_string() + " via " + comm.last_algorithm();
  });
  ASSERT_TRUE(run.ok()) << run.to_string();
  for (int r = 0; r < 8; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

}  // namespace
}  // namespace inca
