// The hardware presets of presets/ and the fabric examples of
// examples/fabrics/: each loads without an error and without a default
// filling a field nobody chose, builds the counts its header describes, and
// runs an exact all-reduce (in-network and ring) through World::create; every
// number in a preset carries a comment naming its source.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "bench_report.hpp"
#include "bench_sweep.hpp"
#include "fabric/fabric_topology.hpp"
#include "inca/cost_model.hpp"
#include "inca/fabric_description.hpp"
#include "inca/world.hpp"

namespace inca {
namespace {

namespace fs = std::filesystem;

const fs::path kPresetDir = fs::path(INCA_SOURCE_DIR) / "presets";
const fs::path kExampleDir = fs::path(INCA_SOURCE_DIR) / "examples" / "fabrics";

/// What a fabric file builds: hosts, and switches per tier (tier 1 first).
struct Shape {
  std::size_t hosts = 0;
  std::vector<std::size_t> switches_per_tier;
};

/// The shapes the files' headers describe. A new file needs its row here.
const std::map<std::string, Shape>& expected_shapes() {
  static const std::map<std::string, Shape> shapes = {
      {"default-100g", {64, {8, 2}}},
      {"classroom-star-8", {8, {1}}},
      {"ndr-400g", {128, {4, 16}}},
      {"hdr-200g", {160, {8, 20}}},
      {"rail-optimized-4x8", {32, {8, 4}}},
      {"fat-tree-k8", {128, {32, 32, 16}}},
      {"gb300-nvl72-4608", {4608, {64 + 64, 36}}},  // leaves and NVLink domains; spines
  };
  return shapes;
}

std::vector<std::string> yaml_files(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> all_files() {
  std::vector<std::string> files = yaml_files(kPresetDir);
  if (fs::is_directory(kExampleDir))
    for (std::string& f : yaml_files(kExampleDir)) files.push_back(std::move(f));
  return files;
}

std::string stem(const std::string& path) {
  return fs::path(path).stem().string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FabricFile : public testing::TestWithParam<std::string> {};

TEST_P(FabricFile, LoadsWithoutErrorsOrDefaultsAndBuildsItsShape) {
  const FabricLoad load = FabricDescription::load(GetParam());
  ASSERT_TRUE(load.ok()) << load.report();
  for (const Diagnostic& d : load.diagnostics)
    EXPECT_NE(d.severity, Severity::error) << d.to_string();
  const FabricDescription& fabric = *load.description;
  EXPECT_TRUE(fabric.defaults.empty()) << "fields left to a default:\n"
                                       << testing::PrintToString(fabric.defaults);
  EXPECT_NE(fabric.summary().find("defaults used: none"), std::string::npos);

  const auto shape = expected_shapes().find(stem(GetParam()));
  ASSERT_NE(shape, expected_shapes().end()) << "add this file's hosts and switches per tier";
  EXPECT_EQ(fabric.hosts.size(), shape->second.hosts);
  std::map<std::uint32_t, std::size_t> tiers;
  for (const SwitchDescription& s : fabric.switches) ++tiers[s.tier];
  std::vector<std::size_t> per_tier;
  for (const auto& [tier, count] : tiers) per_tier.push_back(count);
  EXPECT_EQ(per_tier, shape->second.switches_per_tier);
}

// A quantity as a fabric file writes one: "400Gbps", "66.5e9pps", "3ns",
// "511", ".5us", "-1" (names such as "cx7" or "i8" are not).
bool is_number(const std::string& text) {
  std::size_t i = text.find_first_not_of("+-.");
  return !text.empty() && i != std::string::npos && i <= 2 &&
         std::isdigit(static_cast<unsigned char>(text[i]));
}

// The value of a scalar node, as written, is on the line its mark names; a
// source comment follows it there. Free text (name, description) is exempt.
void expect_numbers_commented(const YAML::Node& node, const std::vector<std::string>& lines,
                              const std::string& file, std::vector<std::string>& missing) {
  auto check = [&](const YAML::Node& value) {
    if (!value.IsScalar()) return expect_numbers_commented(value, lines, file, missing);
    const std::string& text = value.Scalar();
    if (!is_number(text)) return;
    const auto line = static_cast<std::size_t>(value.Mark().line);
    if (line >= lines.size() ||
        lines[line].find('#', static_cast<std::size_t>(value.Mark().column)) == std::string::npos)
      missing.push_back(fmt::format("{}:{}: {}", file, line + 1, text));
  };
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (key == "name" || key == "description") continue;
      check(kv.second);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) check(item);
  }
}

TEST_P(FabricFile, EveryNumberCarriesASourceComment) {
  const std::string text = read_text(GetParam());
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::string> missing;
  expect_numbers_commented(YAML::Load(text), lines, GetParam(), missing);
  EXPECT_TRUE(missing.empty()) << "numbers without a comment:\n" << testing::PrintToString(missing);
}

// A short exact sweep: i32 sum, which every file's switches aggregate (the
// classroom switch aggregates nothing else), in-network and on the hosts.
// A file of thousands of hosts runs its first kMostHostsRun (generated files
// resize), which keeps the unit test short.
constexpr std::size_t kMostHostsRun = 160;
TEST_P(FabricFile, RunsAnExactAllReduceInNetworkAndOnTheHosts) {
  cli::BenchOptions o;
  o.fabric.fabric_file = GetParam();
  // run_bench sizes the data by fabric.ranks; `inca bench` sets it to the
  // file's host count, as here.
  const std::size_t hosts = expected_shapes().at(stem(GetParam())).hosts;
  o.fabric.ranks = static_cast<std::uint32_t>(std::min(hosts, kMostHostsRun));
  if (hosts > kMostHostsRun) o.fabric.overrides.hosts = o.fabric.ranks;
  o.algorithms = {"innet", "ring"};
  o.dtype = Dtype::i32;
  o.min_bytes = 8;
  o.max_bytes = 4096;
  o.step_factor = 8;
  o.payload = cli::PayloadMode::on;
  auto report = cli::run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 4u * 2);  // 8, 64, 512, 4096 B
  for (const cli::BenchRow& r : report->rows) {
    SCOPED_TRACE(r.algorithm + " " + std::to_string(r.bytes));
    EXPECT_EQ(r.ranks, o.fabric.ranks);
    EXPECT_EQ(r.check, "exact");
    EXPECT_GT(r.time_us, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Files, FabricFile, testing::ValuesIn(all_files()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name =
                               fs::path(info.param).parent_path().filename().string() + "_" +
                               stem(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Presets, TheIssuesPresetsExistAndResolveByName) {
  for (const char* name :
       {"default-100g", "classroom-star-8", "ndr-400g", "hdr-200g", "gb300-nvl72-4608"}) {
    SCOPED_TRACE(name);
    auto path = FabricDescription::preset_path(name);
    ASSERT_TRUE(path.ok()) << path.status().to_string();
    EXPECT_TRUE(fs::equivalent(*path, kPresetDir / (std::string(name) + ".yaml")));
  }
}

// The classroom switch aggregates i32 sums only (SwitchML): a float
// all-reduce there is no in-network error under `auto`, it runs on the hosts.
// The table's header names the preset (its rates are its own), not the
// built-in fabric's link rate and latency.
TEST(Presets, ClassroomFloatsFallBackToTheHostsExactlyUnderThePresetsName) {
  cli::BenchOptions o;
  o.fabric.preset = "classroom-star-8";
  o.fabric.ranks = 8;
  o.algorithms = {"auto"};
  o.min_bytes = o.max_bytes = 4096;
  o.payload = cli::PayloadMode::on;
  auto report = cli::run_bench(o);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_EQ(report->rows.size(), 1u);
  EXPECT_EQ(report->rows[0].check, "exact");
  EXPECT_EQ(report->rows[0].algorithm.find("auto:innet"), std::string::npos)
      << report->rows[0].algorithm;
  const std::string table = cli::format_report(*report, o, cli::ReportFormat::table);
  EXPECT_EQ(table.rfind("# inca bench: allreduce f32 sum, 8 ranks, preset classroom-star-8\n", 0),
            0u)
      << table;
}

// The GB300 cluster: 64 NVL72 domains beside the reference design's
// leaf-spine (64 leaves of 72 down and 72 up, 36 spines of which each leaf
// reaches with 2 cables); a rack's traffic on NVLink, the rest on InfiniBand.
TEST(Presets, Gb300HasTwoPortGpusNvlinkRacksAndTheReferenceLeafSpine) {
  auto path = FabricDescription::preset_path("gb300-nvl72-4608");
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  const FabricLoad load = FabricDescription::load(*path);
  ASSERT_TRUE(load.ok()) << load.report();
  const FabricDescription& f = *load.description;
  std::map<std::string, std::size_t> links_of;
  for (const LinkDescription& l : f.links) {
    ++links_of[l.a.node];
    ++links_of[l.b.node];
  }
  for (const HostDescription& h : f.hosts) {
    ASSERT_EQ(h.ports.size(), 2u) << h.name;
    EXPECT_EQ(h.ports[0].gbps, 800) << h.name;
    EXPECT_EQ(h.ports[1].gbps, 7200) << h.name;
    EXPECT_EQ(links_of[h.name], 2u) << h.name;
  }
  for (const SwitchDescription& s : f.switches) {
    SCOPED_TRACE(s.name);
    const std::size_t expected = s.name.rfind("leaf", 0) == 0     ? 72 + 72
                                 : s.name.rfind("domain", 0) == 0 ? 72
                                                                  : 64 * 2;  // a spine
    EXPECT_EQ(links_of[s.name], expected);
  }
  const std::string summary = f.summary();
  EXPECT_NE(summary.find("tier 1: 64 x nvl72_switch (domain0..domain63)"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("tier 1: 64 x quantum_x800 (leaf0..leaf63)"), std::string::npos)
      << summary;

  auto t = fabric_file::build_topology(f);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  // GPU 0 to GPU 71 (its rack): host, NVLink domain switch, host.
  const auto inside = t->path(0, 71);
  ASSERT_EQ(inside.size(), 3u);
  EXPECT_EQ(t->node(inside[1]).name, "domain0");
  // GPU 0 to GPU 72 (the next rack): leaf, spine, leaf.
  const auto across = t->path(0, 72);
  ASSERT_EQ(across.size(), 5u);
  EXPECT_EQ(t->node(across[1]).name, "leaf0");
  EXPECT_EQ(t->node(across[3]).name, "leaf1");
  // Every GPU of a rack reaches every other one through its NVLink port.
  for (std::uint32_t a = 4536; a < 4608; ++a)
    for (std::uint32_t b = 4536; b < 4608; ++b)
      if (a != b) {
        ASSERT_EQ(t->route(t->host_node(a), b), 1) << a << " -> " << b;
      }
}

// What streaming aggregation gives at 800 Gb/s: a window of 512 chunks of
// 4064 B, more than the round trip's bandwidth-delay product.
TEST(Presets, Gb300StreamsAWindowThatCoversTheBandwidthDelayProduct) {
  cli::BenchOptions o;
  o.fabric.preset = "gb300-nvl72-4608";
  o.fabric.ranks = 144;  // two racks
  o.fabric.overrides.hosts = o.fabric.ranks;
  auto world = World::create(o.fabric);
  ASSERT_TRUE(world.ok()) << world.status().to_string();
  const ModelFabric m = (*world)->model_fabric();
  EXPECT_EQ(m.window, 512u);
  EXPECT_EQ(m.slot_payload, 4064u);
}

}  // namespace
}  // namespace inca
