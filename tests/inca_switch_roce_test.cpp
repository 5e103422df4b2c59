// inca-switch's RoCEv2 ports against references not written here: scapy's
// RoCE layer (Debian python3-scapy, run by /usr/bin/python3) builds the
// frames two RDMA hosts send, next to a host on inca-over-UDP, and DPDK's own
// dpdk-testpmd replays them from pcap files into the switch's memif ports
// and records what comes back. scapy then recomputes every result's ICRC and
// checks opcodes, PSN sequences, RETHs, immediates and exact sums; tshark's
// InfiniBand dissector must read the same fields; the switch's capture must
// hold what it received and sent. A corrupted ICRC, an unknown QPN and a
// skipped PSN are dropped and counted, and aggregate nothing (they carry
// values that would make their chunk inexact). The script is
// tests/roce/scapy_roce.py; docs/verbs.md describes the frames.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/inca_switch_process.hpp"
#include "support/netns.hpp"
#include "support/run_command.hpp"
#include "wire/control_codec.hpp"

namespace inca::test {
namespace {

using namespace std::chrono_literals;

constexpr int kHosts = 3;  // hosts 0 and 1 on RoCEv2, host 2 on inca-over-UDP
constexpr std::uint32_t kWindow = 4;
constexpr std::uint32_t kChunks = 2 * kWindow;  // every slot set once: any interleaving completes
constexpr std::uint32_t kElements = 61;         // i16: 154-byte packets, so frames carry a pad
constexpr std::uint32_t kRingEntries = 4;
constexpr std::uint32_t kEntryBytes = 256;
constexpr const char* kSwitchIp = "10.91.0.254";
const std::string kScript = std::string(INCA_SOURCE_DIR) + "/tests/roce/scapy_roce.py";

std::string host_mac(int i) {
  return fmt::format("02:91:00:00:00:{:02x}", i + 1);
}
std::string host_ip(int i) {
  return fmt::format("10.91.0.{}", i + 1);
}

class InncaSwitchRoce : public ::testing::Test {
 protected:
  void SetUp() override {
    switch_bin_ = sibling_binary("inca-switch");
    if (switch_bin_.empty()) GTEST_SKIP() << "inca-switch was not built (libdpdk not found)";
    if (!run_quiet("/usr/bin/python3 -c 'import scapy.contrib.roce'"))
      GTEST_SKIP() << "Debian's python3-scapy is not installed (/usr/bin/python3)";
    if (!run_quiet("command -v dpdk-testpmd")) GTEST_SKIP() << "dpdk-testpmd (Debian dpdk) missing";
    if (!run_quiet("tshark --version")) GTEST_SKIP() << "tshark is not installed";
  }

  // Hosts as pcap files on one side of dpdk-testpmd, the switch's memif
  // ports on the other: pcap i and memif i are a forwarding pair.
  bool replay(std::string& error) {
    const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    const std::string cores = fmt::format("(0-{})", cpus - 1);
    std::vector<std::string> argv = {"/usr/bin/dpdk-testpmd",
                                     fmt::format("--lcores=0@{},1@{}", cores, cores),
                                     "--no-huge",
                                     "-m",
                                     "256",
                                     "--no-pci",
                                     "--file-prefix",
                                     eal_prefix("roce-testpmd"),
                                     "--log-level=lib.eal:warning"};
    for (int i = 0; i < kHosts; ++i) {
      argv.push_back(fmt::format(
          "--vdev=net_pcap{0},rx_pcap={1}/in{0}.pcap,tx_pcap={1}/out{0}.pcap", i, dir_.path()));
      argv.push_back(
          fmt::format("--vdev=net_memif{0},role=client,socket={1}/m{0}.sock,"
                      "socket-abstract=no",
                      i, dir_.path()));
    }
    // --no-flush-rx: testpmd would otherwise discard what the pcap ports
    // hold before it starts forwarding.
    for (const char* a : {"--", "--no-mlockall", "--no-flush-rx", "--port-topology=paired",
                          "--stats-period", "1", "--total-num-mbufs", "2048"})
      argv.emplace_back(a);
    if (!testpmd_.start(argv, dir_.path() + "/testpmd.log")) {
      error = "fork failed";
      return false;
    }
    return true;
  }

  std::uint64_t counter(const std::vector<wire::Counter>& all, const std::string& name) {
    return manager::find_counter(all, name).value_or(~0ull);
  }

  std::string switch_bin_;
  TempDir dir_;
  SwitchProcess sw_;
  ChildProcess testpmd_;
};

TEST_F(InncaSwitchRoce, ScapyFramesAggregateExactlyAndResultsPassScapyAndTshark) {
  std::vector<std::string> vdevs;
  for (int i = 0; i < kHosts; ++i)
    vdevs.push_back(fmt::format("net_memif{0},role=server,socket={1}/m{0}.sock,socket-abstract=no",
                                i, dir_.path()));
  std::string error;
  ASSERT_TRUE(sw_.start(switch_bin_, "rocesw", vdevs,
                        {"--ip", kSwitchIp, "--pcap", dir_.path() + "/switch.pcapng", "--slots",
                         "64", "--slot-bytes", "256"},
                        dir_.path(), error))
      << error;
  auto control = sw_.connect();
  ASSERT_TRUE(control.ok()) << control.status().to_string();
  auto info = control->ping();
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  ASSERT_EQ(info->ports.size(), static_cast<std::size_t>(kHosts));

  nlohmann::json spec;
  spec["switch"]["ip"] = kSwitchIp;
  spec["switch"]["udp_port"] = info->udp_port;
  for (const auto& p : info->ports) spec["switch"]["port_macs"].push_back(wire::format_mac(p.mac));
  spec["tree"] = {
      {"job", 41}, {"key", 0x5eed}, {"tree", 9}, {"window", kWindow}, {"elements", kElements}};
  spec["chunks"] = kChunks;
  wire::TreeInstall tree;
  tree.job = 41;
  tree.key_tag = 0x5eed;
  tree.tree = 9;
  tree.slot_count = kWindow;
  tree.slot_payload_bytes = 256;
  tree.child_ports = {0, 1, 2};
  ASSERT_TRUE(control->install(tree).ok());
  for (int i = 0; i < kHosts; ++i) {
    nlohmann::json h = {{"port", i}, {"child", i}, {"mac", host_mac(i)}, {"ip", host_ip(i)}};
    if (i == 2) {
      h["kind"] = "udp";
      h["udp_port"] = 40002;
      spec["hosts"].push_back(h);
      continue;
    }
    wire::QpConnect qp;
    qp.job = 41;
    qp.port = static_cast<std::uint16_t>(i);
    qp.mac = *wire::parse_mac(host_mac(i));
    qp.ipv4 = *wire::parse_ipv4(host_ip(i));
    qp.qpn = 0x11 + 0x100u * static_cast<std::uint32_t>(i);
    qp.psn = i == 0 ? 0xfffffe : 1000;  // host 0's PSNs wrap around
    qp.mtu = 1024;
    qp.ring_va = 0x7f0000000000ull + 0x100000ull * static_cast<std::uint64_t>(i);
    qp.ring_rkey = 0x1234u + static_cast<std::uint32_t>(i);
    qp.ring_entries = kRingEntries;
    qp.ring_entry_bytes = kEntryBytes;
    auto sw_qp = control->connect_qp(qp);
    ASSERT_TRUE(sw_qp.ok()) << sw_qp.status().to_string();
    h.update({{"kind", "roce"},
              {"qpn", qp.qpn},
              {"psn", qp.psn},
              {"switch_qpn", sw_qp->qpn},
              {"switch_psn", sw_qp->psn},
              {"ring_va", qp.ring_va},
              {"ring_rkey", qp.ring_rkey},
              {"ring_entries", kRingEntries},
              {"entry_bytes", kEntryBytes}});
    spec["hosts"].push_back(h);
  }
  const std::string spec_path = dir_.path() + "/spec.json";
  std::ofstream(spec_path) << spec.dump(2);
  const auto [build_rc, build_out] =
      run_capture("/usr/bin/python3 " + kScript + " build " + spec_path + " " + dir_.path(), true);
  ASSERT_EQ(build_rc, 0) << build_out;

  ASSERT_TRUE(replay(error)) << error;
  std::vector<wire::Counter> counters;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = control->counters();
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    counters = *c;
    if (counter(counters, "engine.results") >= kChunks &&
        counter(counters, "port2.inca_tx") >= kChunks)
      break;
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(300ms);  // the last results reach the pcap files
  EXPECT_EQ(testpmd_.stop(), 0) << testpmd_.log();
  remove_eal_runtime_dir("roce-testpmd");
  sw_.stop();  // the capture is complete once the switch has exited
  const std::string logs = testpmd_.log() + "\n" + sw_.log();

  EXPECT_EQ(counter(counters, "engine.results"), kChunks) << logs;
  EXPECT_EQ(counter(counters, "engine.contributions"), kHosts * kChunks);
  EXPECT_EQ(counter(counters, "engine.duplicates"), 0u);
  EXPECT_EQ(counter(counters, "port0.drop_roce_bad_icrc"), 1u);
  EXPECT_EQ(counter(counters, "port0.drop_roce_unknown_qpn"), 1u);
  EXPECT_EQ(counter(counters, "port0.drop_roce_psn_gap"), 1u);
  for (int i = 0; i < kHosts; ++i) {
    const std::string port = fmt::format("port{}.", i);
    EXPECT_EQ(counter(counters, port + "arp_replies"), 1u) << port;
    EXPECT_EQ(counter(counters, port + "inca_rx"), kChunks) << port;
    EXPECT_EQ(counter(counters, port + "roce_rx"), i < 2 ? kChunks : 0u) << port;
    EXPECT_EQ(counter(counters, port + "roce_tx"), i < 2 ? kChunks : 0u) << port;
  }
  EXPECT_EQ(counter(counters, "port1.drop_roce_psn_gap"), 0u);

  const auto [check_rc, check_out] =
      run_capture("/usr/bin/python3 " + kScript + " check " + spec_path + " " + dir_.path(), true);
  EXPECT_EQ(check_rc, 0) << check_out << "\n" << logs;
  EXPECT_NE(check_out.find("CHECK OK"), std::string::npos) << check_out;
}

}  // namespace
}  // namespace inca::test
