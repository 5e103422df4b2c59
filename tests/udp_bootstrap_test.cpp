// The INCA_* bootstrap of rank processes (switch_emu/udp/bootstrap.hpp):
// what a launcher writes, a rank reads back unchanged; a missing or
// malformed variable is an error that names it.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "udp/bootstrap.hpp"
#include "wire/control_codec.hpp"

namespace inca::udp {
namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  Result<Bootstrap> read() const {
    return bootstrap_from_env([this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
  }
};

Bootstrap sample() {
  Bootstrap b;
  b.rank = 2;
  b.size = 3;
  b.job = 77;
  b.key_tag = 0xdeadbeef;
  b.switch_address = "10.78.0.254:4792";
  b.peers = {"10.78.0.1:4792", "10.78.0.2:4792", "10.78.0.3:5000"};
  b.timeout_ms = 1500;
  b.fixed_timeout_ms = 20;
  b.link_gbps = 1;
  b.netns = "ns-2";
  manager::TreePlan t;
  t.tree = 5;
  t.slots = 64;
  t.slot_payload_bytes = 1024;
  for (std::uint16_t c : {2, 0, 1})
    t.members.push_back({.host = 0, .leaf_node = 0, .child_index = c});
  b.tree = t;
  return b;
}

FakeEnv env_of(const Bootstrap& b) {
  FakeEnv env;
  for (const auto& [name, value] : to_env(b)) env.vars[name] = value;
  return env;
}

// Each (variable, value) of `bad` set in `env` (an empty value: removed) is
// invalid_argument naming the variable.
void expect_named_errors(const FakeEnv& env,
                         const std::vector<std::pair<std::string, std::string>>& bad) {
  for (const auto& [name, value] : bad) {
    FakeEnv e = env;
    if (value.empty())
      e.vars.erase(name);
    else
      e.vars[name] = value;
    auto got = e.read();
    ASSERT_FALSE(got.ok()) << name << "=" << value;
    EXPECT_EQ(got.status().code(), StatusCode::invalid_argument);
    EXPECT_NE(got.status().message().find(name), std::string::npos) << got.status().to_string();
  }
}

TEST(UdpBootstrap, RoundTripsThroughTheEnvironment) {
  const Bootstrap b = sample();
  const FakeEnv env = env_of(b);
  EXPECT_EQ(env.vars.at("INCA_FABRIC"), "udp");
  auto got = env.read();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->rank, b.rank);
  EXPECT_EQ(got->size, b.size);
  EXPECT_EQ(got->job, b.job);
  EXPECT_EQ(got->key_tag, b.key_tag);
  EXPECT_EQ(got->switch_address, b.switch_address);
  EXPECT_EQ(got->peers, b.peers);
  EXPECT_EQ(got->timeout_ms, b.timeout_ms);
  EXPECT_EQ(got->fixed_timeout_ms, b.fixed_timeout_ms);
  EXPECT_EQ(got->link_gbps, b.link_gbps);
  EXPECT_EQ(got->netns, b.netns);
  ASSERT_TRUE(got->tree.has_value());
  EXPECT_EQ(got->tree->tree, 5);
  EXPECT_EQ(got->tree->slots, 64u);
  EXPECT_EQ(got->tree->slot_payload_bytes, 1024u);
  EXPECT_EQ(got->tree->job, b.job);
  EXPECT_EQ(got->tree->key_tag, b.key_tag);
  ASSERT_EQ(got->tree->members.size(), 3u);
  EXPECT_EQ(got->tree->members[0].child_index, 2);
  EXPECT_EQ(got->tree->members[2].child_index, 1);
}

TEST(UdpBootstrap, WithoutATreeInnetHasNone) {
  Bootstrap b = sample();
  b.tree.reset();
  auto got = env_of(b).read();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_FALSE(got->tree.has_value());
}

TEST(UdpBootstrap, MissingOrMalformedVariablesAreNamed) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"INCA_RANK", ""},
      {"INCA_RANK", "3"},
      {"INCA_SIZE", "0"},
      {"INCA_SIZE", "x"},
      {"INCA_JOB", "-1"},
      {"INCA_KEY", "zz"},
      {"INCA_SWITCH", "1.2.3"},
      {"INCA_SWITCH", "1.2.3.4"},
      {"INCA_PEERS", "10.0.0.1:1"},
      {"INCA_TREE", "5:64"},
      {"INCA_CHILDREN", "0,1"},
      {"INCA_TIMEOUT_MS", "0"},
      {"INCA_FIXED_TIMEOUT_MS", "x"},
      {"INCA_LINK_GBPS", "-1"},
      {"INCA_SWITCH", "1.2.3.4:99999"},
  };
  expect_named_errors(env_of(sample()), bad);
}

TEST(UdpBootstrap, MemifCarriesItsSocketAndEveryRanksMac) {
  Bootstrap b = sample();
  b.fabric = "memif";
  b.memif_socket = "/tmp/inca-x/host2.sock";
  b.macs = {"02:00:0a:4e:00:01", "02:00:0a:4e:00:02", "02:00:0a:4e:00:0a"};
  const FakeEnv env = env_of(b);
  EXPECT_EQ(env.vars.at("INCA_FABRIC"), "memif");
  auto got = env.read();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->fabric, "memif");
  EXPECT_EQ(got->memif_socket, b.memif_socket);
  EXPECT_EQ(got->macs, b.macs);
  // The udp fabric needs neither.
  EXPECT_FALSE(env_of(sample()).vars.contains("INCA_MACS"));
  expect_named_errors(env,
                      {{"INCA_FABRIC", "tcp"},
                       {"INCA_MEMIF_SOCKET", ""},
                       {"INCA_MACS", ""},
                       {"INCA_MACS", "02:00:0a:4e:00:01,02:00:0a:4e:00:02"},
                       {"INCA_MACS", "02:00:0a:4e:00:01,02:00:0a:4e:00:02,02:00:0a:4e:00"},
                       {"INCA_MACS", "02:00:0a:4e:00:01,02:00:0a:4e:00:02,02-00-0a-4e-00-03"},
                       {"INCA_MACS", "02:00:0a:4e:00:01,02:00:0a:4e:00:02,02:00:0a:4e:00:zz"}});
}

TEST(UdpBootstrap, VerbsCarriesItsControlRendezvousDeviceAndPort) {
  Bootstrap b = sample();
  b.fabric = "verbs";
  b.control = "127.0.0.1:7000";
  b.rendezvous = "127.0.0.1:7001";
  b.verbs_device = "mlx5_0:1:3";
  b.switch_port = 2;
  const FakeEnv env = env_of(b);
  auto got = env.read();
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->fabric, "verbs");
  EXPECT_EQ(got->control, b.control);
  EXPECT_EQ(got->rendezvous, b.rendezvous);
  EXPECT_EQ(got->verbs_device, b.verbs_device);
  EXPECT_EQ(got->switch_port, 2);
  // Learned when not given; the udp fabric carries none of them.
  b.switch_port = 0xffff;
  EXPECT_FALSE(env_of(b).vars.contains("INCA_SWITCH_PORT"));
  EXPECT_FALSE(env_of(sample()).vars.contains("INCA_CONTROL"));
  // A verbs rank of a job with a tree connects its queue pair at the switch.
  expect_named_errors(env, {{"INCA_CONTROL", ""},
                            {"INCA_CONTROL", "localhost"},
                            {"INCA_RENDEZVOUS", "1.2.3.4"},
                            {"INCA_SWITCH_PORT", "65535"},
                            {"INCA_SWITCH_PORT", "x"}});
}

TEST(UdpBootstrap, ParsesAddresses) {
  auto sa = parse_ipv4_port("10.1.2.3:4792");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(ntohs(sa->sin_port), 4792);
  EXPECT_FALSE(parse_ipv4_port("10.1.2.3").ok());
  EXPECT_FALSE(parse_ipv4_port("host:1").ok());
  EXPECT_FALSE(parse_ipv4_port("10.1.2.3:").ok());
  auto mac = wire::parse_mac("02:00:0A:4e:00:ff");
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(wire::format_mac(*mac), "02:00:0a:4e:00:ff");
  EXPECT_FALSE(wire::parse_mac("02:00:0a:4e:00:ff:").ok());
  EXPECT_FALSE(wire::parse_mac("2:00:0a:4e:00:ff").ok());
}

}  // namespace
}  // namespace inca::udp
