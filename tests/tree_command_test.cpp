// `inca tree`: a job's trees as text, DOT and SVG, and the holdings table.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "inca_command.hpp"

namespace inca {
namespace {

const std::string kData = std::string(INCA_SOURCE_DIR) + "/tests/data/jobs/";

std::pair<int, std::string> inca_tree(const std::string& args) {
  const test::CommandRun run = test::run_inca("tree " + kData + "fabric.yaml " + args, "tree");
  return {run.exit_code, run.out};
}

TEST(TreeCommand, TextShowsEachSwitchWithItsChildrenSlotsAndQuotaShare) {
  const auto [rc, out] = inca_tree(kData + "good.yaml --job a");
  EXPECT_EQ(rc, 0) << out;
  // Spread over the 4 leaves: host0, host4, ... then host1, host5, ...
  EXPECT_EQ(out.substr(0, out.find("job 'a' tree 2")),
            "job 'a' tree 1: root spine0, 2 level(s)\n"
            "  spine0: 10 slots, 50% of quota\n"
            "    leaf0: 10 slots, 100% of quota\n"
            "      hosts: host0, host1\n"
            "    leaf1: 10 slots, 100% of quota\n"
            "      hosts: host4, host5\n"
            "    leaf2: 10 slots, 100% of quota\n"
            "      hosts: host8, host9\n"
            "    leaf3: 10 slots, 100% of quota\n"
            "      hosts: host12, host13\n");
  EXPECT_NE(out.find("job 'a' tree 2: root spine1, 2 level(s)\n"), std::string::npos);
}

TEST(TreeCommand, DotAndSvgDrawEveryTreeEdge) {
  const auto [rc, dot] = inca_tree(kData + "good.yaml --job a --format dot");
  EXPECT_EQ(rc, 0) << dot;
  EXPECT_NE(dot.find("\"leaf0\" -> \"spine0\" [color=\"#1f77b4\", penwidth=2, label=\"tree 1\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"leaf3\" -> \"spine1\" [color=\"#d62728\", penwidth=2, label=\"tree 2\"]"),
            std::string::npos);
  EXPECT_NE(dot.find("\"host13\" -> \"leaf3\""), std::string::npos);
  if (std::system("command -v dot >/dev/null") != 0) GTEST_SKIP() << "Graphviz dot not installed";
  const auto [svg_rc, svg] = inca_tree(kData + "good.yaml --job a --format svg");
  EXPECT_EQ(svg_rc, 0) << svg;
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("leaf3: 10 slots, 100% of quota"), std::string::npos);
}

TEST(TreeCommand, ResourcesListWhatEveryJobHoldsAndMistakesExitNonZero) {
  const auto [rc, out] = inca_tree(kData + "lock-collision.yaml --resources");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("leaf0            a                     8         8192    1    1      40\n"
                     "leaf0            b                     8         8192    1    1      40\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(inca_tree(kData + "good.yaml --job nobody").first, 2);
  EXPECT_EQ(inca_tree(kData + "good.yaml --job a --format png").first, 2);
  EXPECT_EQ(inca_tree(kData + "no-tree.yaml --job a").first, 1);
}

}  // namespace
}  // namespace inca
