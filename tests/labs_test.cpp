// The labs of examples/labs/: each runs as a student runs it (its run.sh,
// with this build's inca) and shows the effect it teaches.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/trace_reader.hpp"
#include "test_support.hpp"
#include "udp/child_process.hpp"
#include "udp/switch_process.hpp"

namespace inca {
namespace {

// Each lab runs its run.sh end to end: many CLI runs whose answers are
// timing figures, a minute or more under a sanitizer. The release build
// checks them; the CLI paths they drive have their own tests under both
// sanitizers.
class Labs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::kSanitizerBuild)
      GTEST_SKIP() << "the lab scripts take minutes under a sanitizer; the release build runs them";
  }
};

std::string inca_binary() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "inca";
}

// Runs examples/labs/<lab>/run.sh into `out`; its output, or a failure.
std::string run_lab(const std::string& lab, const std::string& out) {
  const std::string script = std::string(INCA_SOURCE_DIR) + "/examples/labs/" + lab + "/run.sh";
  ::setenv("INCA", inca_binary().c_str(), 1);
  udp::ChildProcess child;
  const std::string log = out + ".log";
  EXPECT_TRUE(child.start({"/bin/bash", script, out}, log));
  const auto status = child.wait_exit(std::chrono::seconds(120));
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << lab << " failed or ran past 2 minutes:\n"
      << child.log();
  return child.log();
}

nlohmann::json rows(const std::string& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

const nlohmann::json& row(const nlohmann::json& all, const std::string& algorithm,
                          std::uint64_t bytes) {
  for (const auto& r : all)
    if (r["algorithm"] == algorithm && r["bytes"] == bytes) return r;
  static const nlohmann::json none;
  ADD_FAILURE() << "no row " << algorithm << " " << bytes;
  return none;
}

TEST_F(Labs, DoublingComesFromTheBytesEachNicSends) {
  udp::TempDir dir;
  run_lab("01-doubling", dir.path() + "/out");
  const auto all = rows(dir.path() + "/out/rows.json");
  EXPECT_TRUE(std::filesystem::file_size(dir.path() + "/out/doubling.svg") > 10000);
  const double n = 16, S = 16 << 20, H = 98;
  const auto& innet = row(all, "innet", 16 << 20);
  const auto& ring = row(all, "ring", 16 << 20);
  // Per NIC: the ring 2(n-1)/n S, in-network S, each with its packets' overhead.
  EXPECT_NEAR(ring["nic_tx_bytes"].get<double>() / S, 2 * (n - 1) / n * (4064 + H) / 4064, 0.01);
  EXPECT_NEAR(innet["nic_tx_bytes"].get<double>() / S, (2048 + H) / 2048, 0.01);
  const double speedup = innet["algbw_GBps"].get<double>() / ring["algbw_GBps"].get<double>();
  EXPECT_NEAR(speedup, 2 * (n - 1) / n * (2048.0 / (2048 + H)) / (4064.0 / (4064 + H)), 0.03);
}

TEST_F(Labs, LossMakesEveryInNetworkHostResend) {
  udp::TempDir dir;
  run_lab("02-loss", dir.path() + "/out");
  const auto clean = rows(dir.path() + "/out/clean.json");
  const auto lossy = rows(dir.path() + "/out/lossy.json");
  for (const char* a : {"innet", "ring"}) {
    const auto& r = row(lossy, a, 1 << 20);
    EXPECT_EQ(r["check"], "exact") << a;
    EXPECT_GT(r["stats"]["fault_dropped"].get<double>(), 50) << a;
    EXPECT_GT(r["time_us"].get<double>(), row(clean, a, 1 << 20)["time_us"].get<double>()) << a;
  }
  // A lost in-network packet stalls its chunk for every host of the tree,
  // so each one resends; a ring resends the lost fragment.
  auto per_drop = [&](const char* a) {
    const auto& s = row(lossy, a, 1 << 20)["stats"];
    return s["host_retransmissions"].get<double>() / s["fault_dropped"].get<double>();
  };
  EXPECT_GT(per_drop("innet"), 4.0);
  EXPECT_LT(per_drop("ring"), 3.0);
  test::TraceReader trace(dir.path() + "/out/lossy-timeline.json");
  ASSERT_TRUE(trace.valid());
  EXPECT_GT(trace.instants("packet dropped"), 100u);
}

TEST_F(Labs, WindowKneeSitsAtTheBandwidthDelayProduct) {
  udp::TempDir dir;
  run_lab("03-window", dir.path() + "/out");
  std::ifstream in(dir.path() + "/out/window.csv");
  std::map<int, double> algbw;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    int w = 0;
    double t = 0, bw = 0, model = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%lf,%lf,%lf", &w, &t, &bw, &model), 4) << line;
    algbw[w] = bw;
  }
  ASSERT_EQ(algbw.size(), 9u);
  // RTT = 4 x (171.68 ns + 500 ns) = 2.69 us; one 2 KiB packet 171.68 ns:
  // the window stops mattering at RTT / packet time = 15.7 slots.
  EXPECT_NEAR(algbw[2] / algbw[1], 2.0, 0.05);  // below the knee: proportional
  EXPECT_NEAR(algbw[8] / algbw[4], 2.0, 0.05);
  EXPECT_LT(algbw[12], 0.8 * algbw[64]);
  EXPECT_NEAR(algbw[16], algbw[64], 0.01 * algbw[64]);  // at the knee: full rate
}

TEST_F(Labs, TreeDepthSetsSmallMessageLatency) {
  udp::TempDir dir;
  run_lab("04-tree-depth", dir.path() + "/out");
  const auto star = rows(dir.path() + "/out/star.json");
  const auto leaf_spine = rows(dir.path() + "/out/leaf-spine.json");
  // One switch level against two: the round trip through the tree doubles.
  const double ratio = row(leaf_spine, "innet", 8)["time_us"].get<double>() /
                       row(star, "innet", 8)["time_us"].get<double>();
  EXPECT_NEAR(ratio, 2.0, 0.1);
  // The ring pays its 2(n-1) steps either way: depth barely matters to it.
  const double ring = row(leaf_spine, "ring", 8)["time_us"].get<double>() /
                      row(star, "ring", 8)["time_us"].get<double>();
  EXPECT_LT(ring, 1.2);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/out/star.html"));
}

TEST_F(Labs, QuantizedAggregationStaysWithinItsBound) {
  udp::TempDir dir;
  run_lab("05-quantized", dir.path() + "/out");
  for (int n : {4, 16, 64}) {
    const auto all = rows(dir.path() + "/out/ranks" + std::to_string(n) + ".json");
    const auto& q = row(all, "innet_quantized", 256 * 1024);
    EXPECT_EQ(q["check"], "quantized") << n;
    std::smatch m;
    const std::string note = q["note"];
    ASSERT_TRUE(std::regex_search(note, m, std::regex("([0-9]+)% of bound"))) << note;
    EXPECT_LE(std::stoi(m[1].str()), 100) << note;
    EXPECT_GT(std::stod(note.substr(note.find("sum ") + 4)), 0) << "no error at all? " << note;
    // The exponent round costs time.
    EXPECT_GT(q["time_us"].get<double>(), row(all, "innet", 256 * 1024)["time_us"].get<double>());
  }
}

TEST_F(Labs, OversubscriptionSlowsOnlyTheExchangesThatCrossAtOnce) {
  udp::TempDir dir;
  run_lab("08-oversubscription", dir.path() + "/out");
  const auto open = rows(dir.path() + "/out/non-blocking.json");
  const auto over = rows(dir.path() + "/out/oversubscribed.json");
  auto slowdown = [&](const std::string& algorithm) {
    return row(over, algorithm, 4 << 20)["time_us"].get<double>() /
           row(open, algorithm, 4 << 20)["time_us"].get<double>();
  };
  // One flow per leaf crosses the spines: the uplinks are never shared.
  EXPECT_DOUBLE_EQ(slowdown("innet"), 1.0);
  EXPECT_DOUBLE_EQ(slowdown("ring"), 1.0);
  // Two of six exchanges send all 16 hosts of a leaf over 4 uplinks: 4x each.
  EXPECT_NEAR(slowdown("recursive_doubling"), (4.0 + 2 * 4) / 6, 0.02);
  // Rabenseifner's crossing exchanges carry 1/32 and 1/64 of the buffer.
  EXPECT_GT(slowdown("rabenseifner"), 1.05);
  EXPECT_LT(slowdown("rabenseifner"), 1.3);
  std::ifstream summary(dir.path() + "/out/oversubscribed.txt");
  const std::string text((std::istreambuf_iterator<char>(summary)), {});
  EXPECT_NE(text.find("warning: tier 1 is oversubscribed 4:1"), std::string::npos) << text;
  EXPECT_NE(text.find("bisection bandwidth: 800 Gb/s"), std::string::npos) << text;
}

TEST_F(Labs, AllGatherUploadsOnlyWhatEachRankHolds) {
  udp::TempDir dir;
  run_lab("09-allgather", dir.path() + "/out");
  const auto all = rows(dir.path() + "/out/allgather.json");
  constexpr std::uint64_t kBig = 4 << 20, kChunk = 2048, kWire = 98;  // framing + header
  const std::uint64_t chunks = kBig / kChunk, own = chunks / 64;
  // Rank 0 sends its 32 chunks with data and the other 2,016 as headers.
  const auto& innet = row(all, "innet", kBig);
  EXPECT_EQ(innet["nic_tx_bytes"].get<std::uint64_t>(),
            own * (kChunk + kWire) + (chunks - own) * kWire);
  EXPECT_GT(row(all, "ring", kBig)["nic_tx_bytes"].get<std::uint64_t>(), 63 * (kBig / 64));
  // 63 hosts and 7 of 8 leaves send each chunk's header alone.
  EXPECT_EQ(innet["stats"]["switch_identity_contributions"].get<std::uint64_t>(), chunks * 70);
  EXPECT_EQ(innet["stats"]["switch_contributions"].get<std::uint64_t>(), chunks * 72);
  // Latency gains at 16 KiB; at 4 MiB the whole download bounds both.
  auto speedup = [&](std::uint64_t bytes) {
    return row(all, "ring", bytes)["time_us"].get<double>() /
           row(all, "innet", bytes)["time_us"].get<double>();
  };
  EXPECT_GT(speedup(16 << 10), 10.0);
  EXPECT_GT(speedup(kBig), 1.0);
  EXPECT_LT(speedup(kBig), 1.5);
  // Bruck wins on latency, loses where its steps cross the spines at once.
  EXPECT_LT(row(all, "bruck", 16 << 10)["time_us"].get<double>(),
            row(all, "ring", 16 << 10)["time_us"].get<double>());
  EXPECT_GT(row(all, "bruck", kBig)["time_us"].get<double>(),
            2 * row(all, "ring", kBig)["time_us"].get<double>());
}

TEST_F(Labs, CapturedResultsAnswerEveryContribution) {
  const auto bin = std::filesystem::path(inca_binary()).parent_path();
  if (::geteuid() != 0) GTEST_SKIP() << "the udp fabric needs root (network namespaces)";
  if (!std::filesystem::exists(bin / "inca-switch"))
    GTEST_SKIP() << "inca-switch was not built (no libdpdk)";
  if (!std::filesystem::exists(bin / "example_udp_allreduce"))
    GTEST_SKIP() << "example_udp_allreduce was not built";
  if (::access("/usr/bin/tshark", X_OK) != 0) GTEST_SKIP() << "tshark is not installed";
  udp::TempDir dir;
  run_lab("06-capture", dir.path() + "/out");
  std::ifstream in(dir.path() + "/out/frames.tsv");
  // Per switch port: the chunks its host contributed (inbound) and the
  // results the switch sent it (outbound).
  std::map<int, std::set<std::pair<int, long>>> contributed, answered;
  std::size_t frames = 0;
  for (std::string line; std::getline(in, line); ++frames) {
    int port = 0, type = 0, tree = 0;
    unsigned direction = 0;
    long seq = 0;
    ASSERT_EQ(
        std::sscanf(line.c_str(), "%d\t%x\t%d\t%d\t%ld", &port, &direction, &type, &tree, &seq), 5)
        << line;
    if (type == 1) {
      EXPECT_EQ(direction, 1u) << "a contribution leaving the switch toward a host: " << line;
      contributed[port].insert({tree, seq});
    } else {
      EXPECT_EQ(direction, 2u) << "a result arriving from a host: " << line;
      answered[port].insert({tree, seq});
    }
  }
  EXPECT_GT(frames, 4u * 2 * 64);  // 64 chunks of 1 KiB per rank, up and down, at least
  ASSERT_EQ(contributed.size(), 4u);
  for (const auto& [port, chunks] : contributed) {
    EXPECT_GE(chunks.size(), 64u) << port;
    EXPECT_EQ(chunks, answered[port]) << "port " << port << ": the result is each chunk's answer";
  }
}

TEST_F(Labs, TimelineShowsRingStepsAndOneSwitchStream) {
  udp::TempDir dir;
  run_lab("07-timeline", dir.path() + "/out");
  test::TraceReader trace(dir.path() + "/out/timeline.json");
  ASSERT_TRUE(trace.valid());
  for (int rank = 0; rank < 8; ++rank) {
    std::map<std::string, int> steps;
    for (const auto& s : trace.slices(1, rank * 128))
      if (s.category == "step") steps[s.name]++;
    EXPECT_EQ(steps["innet stream"], 1);
    EXPECT_EQ(steps["receive"], 2 * 7 * 4);  // 2(p-1) steps of 4 chunks
  }
}

}  // namespace
}  // namespace inca
