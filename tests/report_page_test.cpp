// `inca report`'s page: its findings as sentences with the right numbers, and
// the page itself loaded in a real browser (headless Chromium): laid out,
// not blank, with its plots, tree and tables present.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench_sweep.hpp"
#include "external_tool.hpp"
#include "report_findings.hpp"
#include "report_page.hpp"
#include "sweep_document.hpp"
#include "test_support.hpp"
#include "udp/child_process.hpp"
#include "udp/switch_process.hpp"

namespace inca::cli {
namespace {

nlohmann::json small_sweep() {
  BenchOptions o;
  o.fabric.topology = TopologyKind::star;
  o.fabric.ranks = 8;
  o.min_bytes = 1024;
  o.max_bytes = 1 << 20;
  o.step_factor = 16;
  auto report = run_bench(o);
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return sweep_document(*report, o);
}

std::string find_text(const std::vector<Finding>& all, const std::string& title) {
  for (const Finding& f : all)
    if (f.title == title) return f.text;
  return "";
}

TEST(ReportFindings, ExplainTheDoublingWithTheMeasuredNicBytes) {
  nlohmann::json sweep = {{"collective", "allreduce"},
                          {"ranks", 4},
                          {"host", "ring"},
                          {"fabric", nlohmann::json::object()}};
  sweep["rows"] = nlohmann::json::array({{{"bytes", 8},
                                          {"algorithm", "innet"},
                                          {"time_us", 2.0},
                                          {"algbw_GBps", 0.004},
                                          {"nic_tx_bytes", 106},
                                          {"model_us", 2.0}},
                                         {{"bytes", 8},
                                          {"algorithm", "ring"},
                                          {"time_us", 10.0},
                                          {"algbw_GBps", 0.0008},
                                          {"nic_tx_bytes", 600},
                                          {"model_us", 11.0}},
                                         {{"bytes", 1048576},
                                          {"algorithm", "innet"},
                                          {"time_us", 100.0},
                                          {"algbw_GBps", 10.0},
                                          {"nic_tx_bytes", 1100000},
                                          {"model_us", 100.0}},
                                         {{"bytes", 1048576},
                                          {"algorithm", "ring"},
                                          {"time_us", 160.0},
                                          {"algbw_GBps", 6.25},
                                          {"nic_tx_bytes", 1600000},
                                          {"model_us", 150.0}}});
  const auto all = findings(sweep);
  const std::string doubling = find_text(all, "Where the doubling comes from");
  EXPECT_NE(doubling.find("At 1 MiB, innet moved 10.00 GB/s"), std::string::npos) << doubling;
  EXPECT_NE(doubling.find("1.60x"), std::string::npos) << doubling;
  EXPECT_NE(doubling.find("2(n-1)/n = 1.500 S"), std::string::npos) << doubling;
  EXPECT_NE(find_text(all, "Small messages: latency").find("(5.0x)"), std::string::npos);
  EXPECT_NE(find_text(all, "Crossover").find("no crossover"), std::string::npos);
  // ring's model is 1/11 off at 8 B and 1/15 off at 1 MiB: the first is the worst.
  EXPECT_NE(find_text(all, "What the model says").find("ring: within 9.1 %"), std::string::npos)
      << find_text(all, "What the model says");
  // A crossover where ring overtakes.
  sweep["rows"][3]["algbw_GBps"] = 20.0;
  EXPECT_NE(find_text(findings(sweep), "Crossover").find("between 8 B and 1 MiB"),
            std::string::npos);
}

TEST(ReportFindings, NameTheCountersThatMoved) {
  nlohmann::json sweep = {{"collective", "allreduce"},
                          {"ranks", 4},
                          {"host", "ring"},
                          {"fabric", nlohmann::json::object()},
                          {"rows", nlohmann::json::array()}};
  sweep["rows"].push_back({{"bytes", 8},
                           {"algorithm", "ring"},
                           {"time_us", 1.0},
                           {"algbw_GBps", 1.0},
                           {"nic_tx_bytes", 8},
                           {"stats", {{"fault_dropped", 3}, {"host_retransmissions", 5}}}});
  const std::string text = find_text(findings(sweep), "Faults and recovery");
  EXPECT_NE(text.find("fault_dropped 3, host_retransmissions 5"), std::string::npos) << text;
  sweep["rows"][0]["stats"] = {{"fault_dropped", 0}};
  EXPECT_NE(find_text(findings(sweep), "Faults and recovery").find("stayed at zero"),
            std::string::npos);
}

TEST(ReportPage, LoadsInHeadlessChromiumWithPlotsTreeAndTables) {
  udp::TempDir dir;
  const std::string page = dir.path() + "/report.html";
  ASSERT_TRUE(write_report(small_sweep(), page).ok());
  std::ifstream in(page);
  std::stringstream html;
  html << in.rdbuf();
  ASSERT_EQ(html.str().find("Figure left out"), std::string::npos)
      << "dot and python3-matplotlib (scripts/setup.sh) draw the figures";
  if (test::kSanitizerBuild)
    GTEST_SKIP() << "the page was written under the sanitizer; loading it in chromium, which is "
                    "not instrumented, is the release build's check";
  if (::access("/usr/bin/chromium", X_OK) != 0)
    GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs Debian's chromium)";

  // The browser measures what it laid out and writes it into the page.
  const std::string probe = dir.path() + "/probe.html";
  std::ofstream(probe) << html.str() << R"(<script>
const box = e => { const r = e.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; };
const out = { svgs: [...document.querySelectorAll('figure svg')].map(box),
              rows: document.querySelectorAll('#rows tbody tr').length,
              counters: document.querySelectorAll('#counters tbody tr').length,
              findings: document.querySelectorAll('.finding').length,
              width: document.body.scrollWidth, height: document.body.scrollHeight };
const pre = document.createElement('pre'); pre.id = 'layout';
pre.textContent = 'LAY' + 'OUT' + JSON.stringify(out) + 'E' + 'ND';
document.body.appendChild(pre);
</script>)";
  const std::vector<std::string> flags = {"/usr/bin/chromium",
                                          "--headless",
                                          "--no-sandbox",
                                          "--disable-gpu",
                                          "--disable-quic",
                                          "--no-first-run",
                                          "--disable-background-networking",
                                          "--disable-component-update",
                                          "--disable-sync",
                                          "--user-data-dir=" + dir.path() + "/profile",
                                          "--window-size=1280,4000"};
  auto browse = [&](const std::string& action, const std::string& file) {
    std::vector<std::string> argv = flags;
    argv.push_back(action);
    argv.push_back("file://" + file);
    udp::ChildProcess chromium;
    const std::string log = dir.path() + "/chromium-" + std::to_string(argv.size()) + ".log";
    std::filesystem::remove(log);
    EXPECT_TRUE(chromium.start(argv, log));
    const auto status = chromium.wait_exit(std::chrono::seconds(90));
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << chromium.log();
    return chromium.log();
  };
  const std::string dom = browse("--dump-dom", probe);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("LAYOUT(.*)END"))) << dom.substr(0, 2000);
  const nlohmann::json layout = nlohmann::json::parse(m[1].str());
  ASSERT_EQ(layout["svgs"].size(), 4u) << layout.dump();  // the tree and three plots
  for (const auto& box : layout["svgs"]) {
    EXPECT_GT(box[0].get<int>(), 150) << layout.dump();
    EXPECT_GT(box[1].get<int>(), 100) << layout.dump();
  }
  EXPECT_EQ(layout["rows"], 6);  // 1 KiB, 16 KiB and 256 KiB, innet and ring
  EXPECT_EQ(layout["counters"], layout["rows"]);
  EXPECT_GE(layout["findings"].get<int>(), 4);

  const std::string shot = dir.path() + "/shot.png";
  browse("--screenshot=" + shot, page);
  ASSERT_TRUE(std::filesystem::exists(shot));
  // Not blank: a real share of the pixels is ink, in many shades.
  udp::ChildProcess pil;
  const std::string stats = dir.path() + "/pixels.log";
  ASSERT_TRUE(pil.start({python(), "-c",
                         "import sys; from PIL import Image\n"
                         "im = Image.open(sys.argv[1]).convert('RGB')\n"
                         "px = list(im.getdata())\n"
                         "ink = sum(1 for p in px if sum(p) < 600)\n"
                         "print('PIXELS', ink / len(px), len(set(px)))",
                         shot},
                        stats));
  ASSERT_TRUE(pil.wait_exit(std::chrono::seconds(60)));
  const std::string pixels = pil.log();
  ASSERT_TRUE(std::regex_search(pixels, m, std::regex("PIXELS ([0-9.e-]+) ([0-9]+)"))) << pixels;
  EXPECT_GT(std::stod(m[1].str()), 0.02) << "the screenshot is nearly blank";
  EXPECT_GT(std::stoi(m[2].str()), 50) << "the screenshot has too few colours to hold plots";
}

}  // namespace
}  // namespace inca::cli
