// inca-switch [EAL args] -- [switch args]
//
// An in-network aggregation switch whose ports are DPDK ethdevs (memif,
// af_packet on a veth, tap, or a NIC). It is only a driver: the protocol is
// the shared engine::AggregationNode and wire codec; docs/fabrics.md has the
// commands to run it.
#include <rte_eal.h>
#include <rte_mempool.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "dpdk/control_server.hpp"
#include "dpdk/dpdk_ports.hpp"
#include "dpdk/interrupt_gate.hpp"
#include "dpdk/pcap_writer.hpp"
#include "dpdk/switch_loop.hpp"
#include "dpdk/switch_options.hpp"
#include "dpdk/switch_pipeline.hpp"

namespace {

using namespace inca;
using namespace inca::dpdk_switch;

LoopSignals g_signals;

extern "C" void on_signal(int sig) {
  if (sig == SIGUSR1)
    g_signals.report.store(true);
  else
    g_signals.stop.store(true);
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

int fail(const std::string& name, const Status& s) {
  fmt::print(stderr, "{}: {}\n", name, s.to_string());
  return 1;
}

// Everything after the EAL is up; returns the exit code. Objects that hold
// DPDK resources are destroyed here, before rte_eal_cleanup.
int run_switch(const SwitchOptions& options) {
  auto pool = create_mbuf_pool("inca_mbufs", probed_ports(), options.max_frame());
  if (!pool) return fail(options.name, pool.status());
  auto ports = start_ports(*pool, options.max_frame());
  if (!ports) return fail(options.name, ports.status());

  PipelineConfig config;
  config.name = options.name;
  config.ipv4 = *wire::parse_ipv4(options.ip);
  config.udp_port = options.udp_port;
  config.verify_ip_checksum = options.verify_ip_checksum;
  config.engine.slots = options.slots;
  config.engine.slot_payload_bytes = options.slot_bytes;
  config.engine.name = options.name;
  config.roce.enabled = options.roce;
  config.roce.max_qps = options.roce_qps;
  config.roce.tos = static_cast<std::uint8_t>((options.roce_dscp << 2) | 0x2);  // ECT(0)
  config.roce.psn_seed = std::random_device{}();
  std::vector<PortIdentity> identities;
  for (const DpdkPort& p : *ports) identities.push_back(p.identity);
  SwitchPipeline pipeline(config, identities);
  for (std::uint16_t i = 0; i < ports->size(); ++i)
    pipeline.port_counters(i).drops[static_cast<std::size_t>(DropReason::before_start)] =
        (*ports)[i].discarded_at_start;

  std::optional<ControlServer> control;
  if (!options.control.empty()) {
    auto server = ControlServer::listen(options.control);
    if (!server) {
      stop_ports(*ports);
      return fail(options.name, server.status());
    }
    control.emplace(std::move(*server));
  }
  std::unique_ptr<PcapWriter> pcap;
  if (!options.pcap.empty()) {
    auto writer = PcapWriter::open(options.pcap, options.max_frame());
    if (!writer) {
      stop_ports(*ports);
      return fail(options.name, writer.status());
    }
    pcap = std::move(*writer);
  }

  auto gate = InterruptGate::open();
  if (!gate) {
    stop_ports(*ports);
    return fail(options.name, gate.status());
  }

  fmt::print("{}: {} ports, ip {}, udp port {}, {} slots x {} B, port limit {}, RoCEv2 {}\n",
             options.name, ports->size(), options.ip, options.udp_port, options.slots,
             options.slot_bytes,
             options.port_gbps > 0 ? fmt::format("{} Gb/s", options.port_gbps) : "none",
             options.roce ? fmt::format("on (up to {} queue pairs)", options.roce_qps) : "off");
  for (std::size_t i = 0; i < ports->size(); ++i)
    fmt::print("  port {}: {} mac {}\n", i, (*ports)[i].identity.name,
               wire::format_mac((*ports)[i].identity.mac));
  if (control) {
    const auto addr = options.control.substr(0, options.control.rfind(':'));
    fmt::print("{}: control channel listening on {}:{}\n", options.name, addr, control->port());
  }
  fmt::print("{}: ready\n", options.name);
  std::fflush(stdout);

  {
    SwitchLoop loop(options, pipeline, *ports, *pool, pcap.get(), control ? &*control : nullptr,
                    gate->get());
    loop.run(g_signals);
    fmt::print("{}: stopping\n", options.name);
    loop.report(stdout);
  }
  gate->reset();  // the PMDs' own callbacks run freely again while the ports stop
  stop_ports(*ports);
  pcap.reset();
  rte_mempool_free(*pool);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // EAL arguments come before "--", the switch's after it.
  int split = 1;
  while (split < argc && std::strcmp(argv[split], "--") != 0) ++split;
  std::vector<char*> switch_args{argv[0]};
  for (int i = split + 1; i < argc; ++i) switch_args.push_back(argv[i]);
  auto parsed = parse_switch_options(static_cast<int>(switch_args.size()), switch_args.data());
  if (parsed.exit_code) return *parsed.exit_code;

  // The EAL may permute its copy of the arguments; argv stays as given.
  std::vector<char*> eal_args(argv, argv + split);
  if (auto s = init_eal(static_cast<int>(eal_args.size()), eal_args.data()); !s.ok())
    return fail(parsed.options.name, s);
  if (auto s = check_vdevs_probed(split, argv); !s.ok()) {
    rte_eal_cleanup();
    return fail(parsed.options.name, s);
  }
  install_signal_handlers();
  const int rc = run_switch(parsed.options);
  rte_eal_cleanup();
  return rc;
}
