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

#include "bench_sweep.hpp"
#include "inca/fabric_description.hpp"

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
      {"default-100g", {64, {8, 2}}},       {"classroom-star-8", {8, {1}}},
      {"ndr-400g", {128, {4, 16}}},         {"hdr-200g", {160, {8, 20}}},
      {"rail-optimized-4x8", {32, {8, 4}}}, {"fat-tree-k8", {128, {32, 32, 16}}},
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
TEST_P(FabricFile, RunsAnExactAllReduceInNetworkAndOnTheHosts) {
  cli::BenchOptions o;
  o.fabric.fabric_file = GetParam();
  // run_bench sizes the data by fabric.ranks; `inca bench` sets it to the
  // file's host count, as here.
  o.fabric.ranks = static_cast<std::uint32_t>(expected_shapes().at(stem(GetParam())).hosts);
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
    EXPECT_EQ(r.ranks, expected_shapes().at(stem(GetParam())).hosts);
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
  for (const char* name : {"default-100g", "classroom-star-8", "ndr-400g", "hdr-200g"}) {
    SCOPED_TRACE(name);
    auto path = FabricDescription::preset_path(name);
    ASSERT_TRUE(path.ok()) << path.status().to_string();
    EXPECT_TRUE(fs::equivalent(*path, kPresetDir / (std::string(name) + ".yaml")));
  }
}

// The classroom switch aggregates i32 sums only (SwitchML): a float
// all-reduce there is no in-network error under `auto`, it runs on the hosts.
TEST(Presets, ClassroomFloatsFallBackToTheHostsExactly) {
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
}

}  // namespace
}  // namespace inca
