// Fabric files: every kind of mistake is reported with its line and column
// (and a hint where one helps), all of them in one pass; units are required;
// generators build what they say; a generated fabric and its element-by-
// element twin run identically; overrides replace every element's value.
#include "inca/fabric_description.hpp"

#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "bench_sweep.hpp"
#include "fabric/units.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

FabricLoad parse(const std::string& text, const FabricOverrides& o = {}) {
  return FabricDescription::parse(text, "t.yaml", o);
}

// The one error whose message contains `needle`, or a failure listing all.
const Diagnostic* find_error(const FabricLoad& load, const std::string& needle) {
  for (const Diagnostic& d : load.diagnostics)
    if (d.severity == Severity::error && d.message.find(needle) != std::string::npos) return &d;
  ADD_FAILURE() << "no error containing '" << needle << "' in:\n" << load.report();
  return nullptr;
}

void expect_error_at(const std::string& text, const std::string& needle, int line, int column,
                     const std::string& hint = "") {
  SCOPED_TRACE(needle);
  const FabricLoad load = parse(text);
  EXPECT_FALSE(load.ok());
  const Diagnostic* d = find_error(load, needle);
  if (!d) return;
  EXPECT_EQ(d->where.file, "t.yaml");
  EXPECT_EQ(d->where.line, line) << d->to_string();
  EXPECT_EQ(d->where.column, column) << d->to_string();
  if (!hint.empty()) {
    EXPECT_NE(d->hint.find(hint), std::string::npos) << d->to_string();
  }
  // The printed form is the compiler's.
  EXPECT_EQ(d->to_string().rfind(fmt::format("t.yaml:{}:{}: error: ", line, column), 0), 0u)
      << d->to_string();
}

FabricOverrides with_hosts(std::uint32_t n) {
  FabricOverrides o;
  o.hosts = n;
  return o;
}

const char* kStar = R"(inca_fabric: 1
name: tiny
topology:
  star:
    hosts: 4
    host: {nic_rate: 100Gbps}
    switch: {slots: 64}
    link: {rate: 100Gbps, latency: 500ns, mtu: 4KiB}
)";

TEST(FabricUnits, EveryQuantityNeedsItsUnit) {
  using namespace fabric_file;
  EXPECT_DOUBLE_EQ(*parse_rate("800Gbps"), 800);
  EXPECT_DOUBLE_EQ(*parse_rate("2.5e9Bps"), 20);
  EXPECT_DOUBLE_EQ(*parse_rate("1.8TBps"), 14400);
  EXPECT_DOUBLE_EQ(*parse_rate("100 Gb/s"), 100);
  EXPECT_EQ(*parse_time("1.2us"), 1200 * kPicosPerNano);
  EXPECT_EQ(*parse_time("90ns"), 90 * kPicosPerNano);
  EXPECT_EQ(*parse_time("7ps"), 7);
  EXPECT_EQ(*parse_bytes("4KiB"), 4096u);
  EXPECT_EQ(*parse_bytes("4KB"), 4000u);
  EXPECT_DOUBLE_EQ(*parse_packet_rate("1.2e9pps"), 1.2e9);
  EXPECT_NE(parse_time("130").error().find("has no unit"), std::string::npos);
  EXPECT_NE(parse_rate("800").error().find("has no unit"), std::string::npos);
  EXPECT_NE(parse_rate("800Gbit").error().find("unknown unit 'Gbit'"), std::string::npos);
  EXPECT_NE(parse_time("-3ns").error().find("negative"), std::string::npos);
  EXPECT_NE(parse_bytes("1.5B").error().find("whole number"), std::string::npos);
  EXPECT_FALSE(parse_time("fast").ok());
  // What files write comes back exactly.
  for (Time t : {Time{0}, Time{7}, Time{1200000}, Time{123456789}})
    EXPECT_EQ(*parse_time(format_time(t)), t);
  for (double g : {100.0, 12.5, 1e-3, 14400.0}) EXPECT_EQ(*parse_rate(format_rate(g)), g);
}

TEST(FabricFile, AStarLoadsWithItsCounts) {
  const FabricLoad load = parse(kStar);
  ASSERT_TRUE(load.ok()) << load.report();
  const FabricDescription& f = *load.description;
  EXPECT_EQ(f.name, "tiny");
  EXPECT_EQ(f.generator, "star");
  EXPECT_EQ(f.hosts.size(), 4u);
  ASSERT_EQ(f.switches.size(), 1u);
  EXPECT_EQ(f.switches[0].slots, 64u);
  EXPECT_EQ(f.links.size(), 4u);
  EXPECT_EQ(f.links[0].mtu, 4096u);
  // What nobody said is listed, per context, once.
  EXPECT_NE(std::find(f.defaults.begin(), f.defaults.end(),
                      "the star generator switch: forwarding_latency = 0ns (default)"),
            f.defaults.end());
}

TEST(FabricFile, EveryMistakeIsReportedWithItsLineAndColumn) {
  expect_error_at("name: x\n", "not an inca fabric file", 1, 1, "inca_fabric: 1");
  expect_error_at("inca_fabric: 2\n", "version 2 is not supported", 1, 14);
  expect_error_at("inca_fabric: 1\nnmae: x\n", "unknown key 'nmae'", 2, 1, "did you mean 'name'?");
  expect_error_at(R"(inca_fabric: 1
link_models:
  up: {rate: 100Gbps, latncy: 1us}
)",
                  "unknown key 'latncy'", 3, 23, "did you mean 'latency'?");
  expect_error_at(R"(inca_fabric: 1
switch_models:
  q2:
    forwarding_latency: 130
)",
                  "has no unit", 4, 25, "write a unit");
  expect_error_at(R"(inca_fabric: 1
link_models:
  l: {rate: 100Gbit}
)",
                  "unknown unit 'Gbit'", 3, 13);
  expect_error_at(R"(inca_fabric: 1
hosts:
  - {name: h0}
switches:
  - {name: s0, tier: 1}
links:
  - {a: h0, b: s9}
)",
                  "no host or switch named 's9'", 7, 5, "did you mean 's0'?");
  expect_error_at(R"(inca_fabric: 1
topology:
  star: {hosts: 2, switch: q3}
)",
                  "no switch_models entry 'q3'", 3, 28);
  expect_error_at(R"(inca_fabric: 1
switch_models:
  q: {slots: 0}
)",
                  "'slots' of switch_models 'q' is 0", 3, 14);
  expect_error_at(R"(inca_fabric: 1
switch_models:
  q: {dtypes: [f32, f33]}
)",
                  "'f33'", 3, 21, "did you mean 'f32'?");
  expect_error_at("inca_fabric: 1\ntopology:\n  star: {hosts: [1}\n", "YAML syntax error", 3, 19);
}

TEST(FabricFile, SemanticMistakesNameTheElements) {
  // A radix too small, a host that cannot reach the others, an MTU below a
  // header plus a slot's payload, and a duplicate name: all in one pass.
  const std::string with_duplicate = R"(inca_fabric: 1
hosts:
  - {name: h0}
  - {name: h1}
  - {name: h2}
  - {name: h2}
switches:
  - {name: a, tier: 1, radix: 1, slot_payload: 4KiB}
  - {name: b, tier: 1}
links:
  - {a: h0, b: a}
  - {a: h1, b: a, mtu: 4KiB}
  - {a: h2, b: b}
)";
  const FabricLoad load = parse(with_duplicate);
  EXPECT_FALSE(load.ok());
  const Diagnostic* dup = find_error(load, "two elements are named 'h2'");
  if (dup) {
    EXPECT_EQ(dup->where.line, 6);
  }
  // With the duplicate gone, the other checks run.
  std::string without = with_duplicate;
  without.erase(without.find("  - {name: h2}\n"), 15);
  const FabricLoad rest = parse(without);
  EXPECT_FALSE(rest.ok());
  const Diagnostic* radix = find_error(rest, "switch 'a' has 2 links but a radix of 1");
  if (radix) {
    EXPECT_EQ(radix->where.line, 7);
  }
  const Diagnostic* cut = find_error(rest, "1 host(s) cannot reach host 'h0': h2");
  if (cut) {
    EXPECT_EQ(cut->where.line, 3);
  }
  const Diagnostic* mtu = find_error(rest, "MTU 4096 B cannot carry switch 'a''s slot payload");
  if (mtu) {
    EXPECT_EQ(mtu->where.line, 10);  // the first of the two links at 'a' with a 4 KiB MTU
    EXPECT_NE(mtu->hint.find("4128 B"), std::string::npos) << mtu->hint;
  }
}

TEST(FabricFile, AGeneratorPastAMillionLinksIsRefusedBeforeItBuilds) {
  const FabricLoad load = parse(R"(inca_fabric: 1
topology:
  leaf_spine:
    hosts: 65535
    hosts_per_leaf: 1
    spines: 16
    uplinks_per_leaf: 32
)");
  EXPECT_FALSE(load.ok());
  const Diagnostic* big =
      find_error(load, "would have 2162655 links; a fabric file generates at most 1048576");
  if (big) {
    EXPECT_EQ(big->where.line, 4);
  }
}

TEST(FabricFile, PortsOfHostsAreNamedAndUsedOnce) {
  const std::string head = R"(inca_fabric: 1
host_models:
  dual: {ports: [{name: ib0, rate: 400Gbps}, {name: ib1, rate: 400Gbps}]}
hosts:
  - {name: h0, model: dual}
switches:
  - {name: s0, tier: 1}
links:
)";
  expect_error_at(head + "  - {a: h0, b: s0}\n", "host 'h0' has 2 ports; say which", 9, 5,
                  "h0:ib0");
  expect_error_at(head + "  - {a: h0:ib2, b: s0}\n", "has no port 'ib2'", 9, 5);
  expect_error_at(head + "  - {a: h0:ib0, b: s0}\n  - {a: h0:ib0, b: s0}\n", "has a second link",
                  10, 5);
  const FabricLoad ok = parse(head + "  - {a: h0:ib0, b: s0}\n  - {a: h0:ib1, b: s0}\n");
  EXPECT_TRUE(ok.ok()) << ok.report();
}

TEST(FabricFile, OversubscriptionIsAWarningWithTheNumbers) {
  const FabricLoad load = parse(R"(inca_fabric: 1
topology:
  leaf_spine:
    hosts: 16
    hosts_per_leaf: 8
    spines: 2
    oversubscription: 2:1
    host: {nic_rate: 400Gbps}
    host_link: {rate: 400Gbps}
    uplink: {rate: 400Gbps}
)");
  ASSERT_TRUE(load.ok()) << load.report();
  // 8 x 400 down over 2:1 = 1600 up = 4 uplinks, two to each spine.
  EXPECT_EQ(load.description->links.size(), 16u + 2 * 4);
  bool warned = false;
  for (const Diagnostic& d : load.diagnostics)
    warned = warned || (d.severity == Severity::warning &&
                        d.message.find("tier 1 is oversubscribed 2:1") != std::string::npos);
  EXPECT_TRUE(warned) << load.report();
  // A ratio that does not come out in whole uplinks per spine is refused.
  const FabricLoad odd = parse(R"(inca_fabric: 1
topology:
  leaf_spine: {hosts: 16, hosts_per_leaf: 8, spines: 2, oversubscription: 3}
)");
  EXPECT_FALSE(odd.ok());
  find_error(odd, "no whole multiple of 2 spines");
}

TEST(FabricFile, GeneratorsBuildTheirShapes) {
  const FabricLoad fat = parse(R"(inca_fabric: 1
topology:
  fat_tree: {k: 4}
)");
  ASSERT_TRUE(fat.ok()) << fat.report();
  EXPECT_EQ(fat.description->hosts.size(), 16u);            // k^3/4
  EXPECT_EQ(fat.description->switches.size(), 8u + 8 + 4);  // edges, aggregations, cores
  EXPECT_EQ(fat.description->links.size(), 16u + 16 + 16);
  const FabricLoad rail = parse(R"(inca_fabric: 1
host_models:
  gpu4: {ports: [{name: r0, rate: 400Gbps}, {name: r1, rate: 400Gbps}, {name: r2, rate: 400Gbps}, {name: r3, rate: 400Gbps}]}
topology:
  rail_leaf_spine: {hosts: 8, rails: 4, hosts_per_leaf: 4, spines: 2, host: gpu4}
)");
  ASSERT_TRUE(rail.ok()) << rail.report();
  EXPECT_EQ(rail.description->switches.size(), 2u * 4 + 2);
  EXPECT_EQ(rail.description->links.size(), 8u * 4 + 8 * 2);
  EXPECT_EQ(rail.description->links[1].a.port, "r1");
  EXPECT_EQ(rail.description->links[1].b.node, "rail1_leaf0");
  // --ranks resizes a generated fabric; an element-by-element one must match.
  const FabricLoad bigger = parse(kStar, with_hosts(9));
  ASSERT_TRUE(bigger.ok()) << bigger.report();
  EXPECT_EQ(bigger.description->hosts.size(), 9u);
}

// The same fabric generated and written element by element: identical
// descriptions and identical simulated times, and both exact.
TEST(FabricFile, AGeneratedFabricAndItsWrittenOutTwinRunIdentically) {
  for (const char* generator : {"leaf_spine: {hosts: 12, hosts_per_leaf: 4, spines: 2}",
                                "fat_tree: {k: 4, hosts: 10}", "star: {hosts: 5}"}) {
    SCOPED_TRACE(generator);
    const std::string text = std::string(R"(inca_fabric: 1
name: twin
switch_models:
  sw: {forwarding_latency: 130ns, aggregation_latency: 200ns, aggregation_rate: 800Gbps}
host_models:
  h: {nic_rate: 100Gbps, send_overhead: 900ns, recv_overhead: 700ns, gap: 20ns}
topology:
  )") + generator + "\n";
    FabricLoad generated = parse(text);
    ASSERT_TRUE(generated.ok()) << generated.report();
    // Give every element its model through the generator's defaults.
    for (SwitchDescription& s : generated.description->switches) {
      s.forwarding_latency = 130 * kPicosPerNano;
      s.aggregation_latency = 200 * kPicosPerNano;
      s.aggregation_gbps = 800;
    }
    for (HostDescription& h : generated.description->hosts)
      h.timing = {900 * kPicosPerNano, 700 * kPicosPerNano, 20 * kPicosPerNano, 0};
    FabricLoad twin = FabricDescription::parse(generated.description->to_yaml(), "t.yaml");
    ASSERT_TRUE(twin.ok()) << twin.report();
    EXPECT_EQ(twin.description->to_yaml(), generated.description->to_yaml());
    EXPECT_TRUE(twin.description->defaults.empty());
    std::vector<cli::BenchReport> reports;
    for (const FabricDescription* f : {&*generated.description, &*twin.description}) {
      cli::BenchOptions o;
      o.fabric.description = std::make_shared<const FabricDescription>(*f);
      o.fabric.ranks = static_cast<std::uint32_t>(f->hosts.size());
      o.algorithms = {"innet", "ring", "recursive_doubling"};
      o.min_bytes = 8;
      o.max_bytes = 1 << 20;
      o.step_factor = 64;
      o.payload = cli::PayloadMode::on;
      auto r = cli::run_bench(o);
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      reports.push_back(std::move(*r));
    }
    ASSERT_EQ(reports[0].rows.size(), reports[1].rows.size());
    ASSERT_EQ(reports[0].rows.size(), 3u * 3);  // 8 B, 512 B, 32 KiB
    for (std::size_t i = 0; i < reports[0].rows.size(); ++i) {
      EXPECT_EQ(reports[0].rows[i].check, "exact");
      EXPECT_EQ(reports[1].rows[i].check, "exact");
      EXPECT_EQ(reports[0].rows[i].time_us, reports[1].rows[i].time_us)
          << reports[0].rows[i].algorithm;
      EXPECT_EQ(reports[0].rows[i].model_us, reports[1].rows[i].model_us);
    }
  }
}

TEST(FabricFile, OverridesReplaceEveryElementsValue) {
  FabricOverrides o;
  o.link_gbps = 400;
  o.link_latency = 90 * kPicosPerNano;
  o.slot_bytes = 1024;
  o.send_overhead = kPicosPerMicro;
  o.forwarding_latency = 130 * kPicosPerNano;
  const FabricLoad load = parse(kStar, o);
  ASSERT_TRUE(load.ok()) << load.report();
  for (const LinkDescription& l : load.description->links) {
    EXPECT_EQ(l.gbps, 400);
    EXPECT_EQ(l.reverse_gbps, 400);
    EXPECT_EQ(l.latency, 90 * kPicosPerNano);
  }
  for (const HostDescription& h : load.description->hosts) {
    EXPECT_EQ(h.timing.send_overhead, kPicosPerMicro);
    EXPECT_EQ(h.ports[0].gbps, 400);  // the port never throttles the faster link
  }
  EXPECT_EQ(load.description->switches[0].slot_payload_bytes, 1024u);
  EXPECT_EQ(load.description->switches[0].forwarding_latency, 130 * kPicosPerNano);
  // An element-by-element file cannot be resized.
  FabricDescription f = *load.description;
  EXPECT_EQ(f.apply(with_hosts(5)).code(), StatusCode::invalid_argument);
}

TEST(FabricFile, PresetsAreFoundByNameAndUnknownOnesListTheOthers) {
  auto path = FabricDescription::preset_path("default-100g");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  auto none = FabricDescription::preset_path("no-such-preset");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("default-100g"), std::string::npos);
  // The default preset is the built-in default fabric.
  auto world = World::create({.preset = "default-100g"});
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  EXPECT_EQ((*world)->size(), 64u);
  EXPECT_EQ((*world)->tree_levels(), 2u);
}

}  // namespace
}  // namespace inca
