// inca-loadgen [EAL args] -- [--mode both|fwd|agg|roce|agg-roce|all] [--control ADDR:PORT] ...
//
// Measures a running inca-switch over memif: its raw layer-2 forwarding rate
// and its aggregation rate on the same ports in one run, and their ratio;
// the aggregation over inca-over-UDP and over RoCEv2 (docs/verbs.md). Modes:
// both = fwd + agg; agg-roce = agg + roce; all = fwd + agg + roce.
// docs/fabrics.md shows the command lines.
#include <rte_cycles.h>
#include <rte_eal.h>

#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "dpdk/dpdk_ports.hpp"
#include "dpdk/loadgen/loadgen.hpp"
#include "dpdk/roce_frame.hpp"
#include "manager/switch_control_client.hpp"

namespace {

using namespace inca;
using namespace inca::dpdk_switch;

struct Options {
  std::string mode = "both";
  std::string control;
  double link_timeout = 10;
  LoadgenConfig config;
};

int fail(const Status& s) {
  fmt::print(stderr, "inca-loadgen: {}\n", s.to_string());
  return 1;
}

int run(const Options& o) {
  LoadgenConfig config = o.config;
  const std::uint32_t frame =
      static_cast<std::uint32_t>(kRoceWriteImmHeadBytes + wire::kHeaderBytes + kRoceMaxTailBytes) +
      config.payload_bytes;
  auto pool = create_mbuf_pool("loadgen_mbufs", probed_ports(), frame);
  if (!pool) return fail(pool.status());
  auto ports = start_ports(*pool, frame);
  if (!ports) return fail(ports.status());
  const std::uint64_t deadline =
      rte_get_tsc_cycles() + static_cast<std::uint64_t>(o.link_timeout * rte_get_tsc_hz());
  while (!links_up(*ports) && rte_get_tsc_cycles() < deadline) rte_delay_ms(10);
  if (!links_up(*ports)) {
    stop_ports(*ports);
    return fail(make_error(StatusCode::timeout, "ports did not come up (is inca-switch running?)"));
  }
  const std::size_t n = ports->size();
  LoadGenerator gen(config, *ports, *pool);
  int rc = 0;
  PhaseResult fwd;
  PhaseResult agg;
  if (o.mode == "both" || o.mode == "fwd" || o.mode == "all") {
    auto r = gen.run_forwarding();
    if (!r) return fail(r.status());
    fwd = *r;
    fmt::print("forwarding:  {} ports, {} B frames: {} frames in {:.2f} s = {:.3f} Mpps\n", n,
               gen.frame_bytes(), fwd.packets, fwd.seconds, fwd.pps() / 1e6);
  }
  const bool udp_agg =
      o.mode == "both" || o.mode == "agg" || o.mode == "agg-roce" || o.mode == "all";
  const bool roce_agg = o.mode == "roce" || o.mode == "agg-roce" || o.mode == "all";
  std::optional<manager::SwitchControlClient> client;
  if (udp_agg || roce_agg) {
    auto c = manager::SwitchControlClient::connect(o.control);
    if (!c) return fail(c.status());
    client.emplace(std::move(*c));
  }
  PhaseResult roce;
  for (const Transport t : {Transport::udp, Transport::roce}) {
    if (t == Transport::udp ? !udp_agg : !roce_agg) continue;
    auto r = gen.run_aggregation(*client, t);
    if (!r) return fail(r.status());
    (t == Transport::udp ? agg : roce) = *r;
    const std::uint32_t frame_bytes =
        t == Transport::udp ? gen.frame_bytes() : gen.roce_frame_bytes();
    fmt::print(
        "aggregation over {}: {} hosts, window {}, {} B payload ({} B frames): {} contributions "
        "in {:.2f} s = {:.3f} Mpps ({:.3f} M chunks/s), {} inexact, {} retransmits{}\n",
        t == Transport::udp ? "UDP" : "RoCEv2", n, config.window, config.payload_bytes, frame_bytes,
        r->packets, r->seconds, r->pps() / 1e6, r->pps() / 1e6 / static_cast<double>(n),
        r->mismatches, r->retransmits,
        t == Transport::roce ? fmt::format(", {} results refused by the NICs", r->roce_errors)
                             : "");
    if (r->mismatches > 0 || r->roce_errors > 0) rc = 2;
  }
  fmt::print(
      "RESULT frame_bytes={} fwd_pps={:.0f} agg_pps={:.0f} ratio={:.3f} roce_frame_bytes={} "
      "roce_pps={:.0f} roce_ratio={:.3f} inexact={} roce_errors={}\n",
      gen.frame_bytes(), fwd.pps(), agg.pps(), fwd.pps() > 0 ? agg.pps() / fwd.pps() : 0.0,
      gen.roce_frame_bytes(), roce.pps(), agg.pps() > 0 ? roce.pps() / agg.pps() : 0.0,
      agg.mismatches + roce.mismatches, roce.roce_errors);
  stop_ports(*ports);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  int split = 1;
  while (split < argc && std::strcmp(argv[split], "--") != 0) ++split;
  std::vector<char*> own{argv[0]};
  for (int i = split + 1; i < argc; ++i) own.push_back(argv[i]);

  Options o;
  CLI::App app{"inca-loadgen: measure inca-switch forwarding and aggregation rates over memif",
               "inca-loadgen"};
  app.option_defaults()->always_capture_default();
  app.add_option("--mode", o.mode,
                 "phases: both (fwd, agg), fwd, agg, roce, agg-roce (agg, roce), all")
      ->check(CLI::IsMember({"both", "fwd", "agg", "roce", "agg-roce", "all"}));
  app.add_option("--control", o.control, "the switch's control channel ADDR:PORT (agg phase)");
  app.add_option("--seconds", o.config.seconds, "length of each phase")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--payload-bytes", o.config.payload_bytes, "inca payload bytes per packet")
      ->check(CLI::Range(4u, 8192u));
  app.add_option("--window", o.config.window, "chunks in flight per host (tree slots)")
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--job", o.config.job, "job id of the measurement tree");
  app.add_option("--tree", o.config.tree, "tree id of the measurement tree");
  app.add_option("--switch-ports", o.config.switch_ports,
                 "switch port of each loadgen port (default: the same index)");
  app.add_option("--link-timeout", o.link_timeout, "seconds to wait for the memif links");
  try {
    app.parse(static_cast<int>(own.size()), own.data());
    if (o.mode != "fwd" && o.control.empty())
      throw CLI::ValidationError("--control",
                                 "the aggregation phase needs the switch's control address");
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::vector<char*> eal(argv, argv + split);
  if (auto s = init_eal(static_cast<int>(eal.size()), eal.data()); !s.ok()) return fail(s);
  const int rc = run(o);
  rte_eal_cleanup();
  return rc;
}
