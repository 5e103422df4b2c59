// `inca launch -n N --fabric udp|memif -- PROGRAM ARGS`: runs N rank
// processes of PROGRAM on the kernel-UDP fabric or the memif fabric. It
// builds the fabric (udp: a network namespace and a veth per rank and an
// inca-switch per switch of the topology with an af_packet port on each
// rank's veth; memif: a memif server port per rank; memif between switches),
// installs the job's tree through the switch's control channel, starts every
// rank in its namespace with the bootstrap environment (udp/bootstrap.hpp),
// waits for them, and tears everything down again, also when a rank fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "udp/bootstrap.hpp"
#include "udp/netns.hpp"
#include "udp/star_job.hpp"
#include "udp/switch_fabric.hpp"
#include "udp/switch_process.hpp"

namespace inca::cli {
namespace {

struct LaunchArgs {
  std::uint32_t ranks = 0;
  std::string fabric = "udp";
  double port_gbps = 0;
  std::string topology = "star";
  std::uint32_t hosts_per_leaf = 4;
  std::uint32_t window = 64;
  std::uint32_t slot_bytes = 1024;
  std::uint32_t switch_slots = 512;
  std::uint32_t timeout_ms = 5000;
  std::uint32_t fixed_timeout_ms = 0;
  double grace_s = 10;
  bool verbose = false;
  std::string pcap_dir;
  std::vector<std::string> command;
};

constexpr const char* kSubnet = "10.78.0";

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

// How a rank ended, in words ("" when it exited with status 0).
std::string describe_exit(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status) == 0 ? ""
                                    : fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       ::strsignal(WTERMSIG(status)));
  return fmt::format("ended with wait status {}", status);
}

// Forks a rank: it enters namespace `ns` (unless empty), takes the bootstrap variables and
// becomes the program. It dies with the launcher, so none outlives it.
pid_t spawn_rank(const std::string& ns, const std::vector<udp::EnvVar>& env,
                 const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string ns_path = "/var/run/netns/" + ns;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  const int fd = ns.empty() ? -1 : ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (!ns.empty() && (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0)) {
    std::fprintf(stderr, "inca launch: cannot enter %s: %s\n", ns_path.c_str(),
                 std::strerror(errno));
    ::_exit(126);
  }
  for (const auto& [name, value] : env) ::setenv(name.c_str(), value.c_str(), 1);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "inca launch: cannot run %s: %s\n", argv[0], std::strerror(errno));
  ::_exit(127);
}

struct Rank {
  pid_t pid = -1;
  std::optional<int> status;  // wait status once it ended
};

// Waits for every rank. After the first failure the others get `grace` to
// notice (their operations time out) and are then killed; so are all on
// SIGINT/SIGTERM.
void wait_ranks(std::vector<Rank>& ranks, std::chrono::duration<double> grace) {
  using Clock = std::chrono::steady_clock;
  std::optional<Clock::time_point> kill_at;
  std::size_t running = ranks.size();
  for (const Rank& rank : ranks)
    if (rank.status) {  // never started: stop the others at once
      --running;
      kill_at = Clock::now();
    }
  while (running > 0) {
    bool reaped = false;
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      int status = 0;
      if (ranks[r].status || ::waitpid(ranks[r].pid, &status, WNOHANG) != ranks[r].pid) continue;
      ranks[r].status = status;
      --running;
      reaped = true;
      if (!describe_exit(status).empty() && !kill_at)
        kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(grace);
    }
    if (g_stop_signal != 0 && !kill_at) kill_at = Clock::now();
    if (kill_at && Clock::now() >= *kill_at)
      for (const Rank& rank : ranks)
        if (!rank.status) ::kill(rank.pid, SIGKILL);
    if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int launch(const LaunchArgs& a) {
  auto fail = [](const std::string& why) {
    std::fprintf(stderr, "inca launch: %s\n", why.c_str());
    return 2;
  };
  const bool memif = a.fabric == "memif";
  if (a.fabric != "udp" && !memif)
    return fail(
        fmt::format("--fabric {}: only udp and memif run rank processes (sim and live run "
                    "threads: use World::create)",
                    a.fabric));
  if (a.ranks == 0 || a.ranks > 250) return fail("-n must be in 1..250 (one /24 subnet)");
  if (a.command.empty()) return fail("no program to run (inca launch -n N -- PROGRAM ARGS)");
  if (const std::string why = udp::netns_unavailable(); !memif && !why.empty()) return fail(why);
  // From here on SIGINT/SIGTERM only set a flag, so that the destructors
  // below always tear the fabric down.
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  const std::string binary = udp::sibling_binary("inca-switch");
  if (binary.empty()) return fail("inca-switch was not built next to inca (libdpdk not found?)");

  topology::SwitchSpec spec{a.switch_slots, a.slot_bytes};
  auto topo = a.topology == "star"
                  ? topology::Topology::star(a.ranks, {}, spec)
                  : topology::Topology::leaf_spine(a.ranks, a.hosts_per_leaf, 1, {}, {}, spec);
  if (!topo.ok()) return fail(topo.status().to_string());
  if (a.ranks + topo->switch_nodes().size() > 253)
    return fail("ranks and switches must fit one /24 subnet (at most 253)");

  udp::TempDir dir;
  // memif ranks are DPDK processes in the launcher's namespace: no veths.
  udp::VethHosts veths("L", memif ? 0 : a.ranks, kSubnet);
  std::string error;
  if (!veths.create(error)) return fail(error);
  std::vector<std::string> switch_args = {"--slots", std::to_string(a.switch_slots), "--slot-bytes",
                                          std::to_string(a.slot_bytes)};
  if (a.port_gbps > 0) {
    switch_args.push_back("--port-gbps");
    switch_args.push_back(fmt::format("{}", a.port_gbps));
  }
  auto fabric = memif ? std::make_unique<udp::SwitchFabric>(*topo, kSubnet, dir.path())
                      : std::make_unique<udp::SwitchFabric>(*topo, veths, kSubnet, dir.path());
  udp::SwitchFabric& switches = *fabric;
  if (!a.pcap_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.pcap_dir, ec);
    if (ec) return fail("--pcap " + a.pcap_dir + ": " + ec.message());
    switches.capture_to(std::filesystem::absolute(a.pcap_dir).string());
  }
  if (!switches.start(binary, switch_args, error)) return fail(error);

  std::random_device random;
  udp::Bootstrap boot;
  boot.fabric = a.fabric;
  boot.size = a.ranks;
  boot.job = random() & 0xffffff;
  boot.key_tag = random();
  const auto port = udp::parse_ipv4_port(switches.leaf_address(0))->sin_port;
  for (std::uint32_t i = 0; i < a.ranks; ++i) {
    boot.peers.push_back(fmt::format("{}.{}:{}", kSubnet, i + 1, ntohs(port)));
    // Locally administered unicast, the rank number in the last byte.
    if (memif) boot.macs.push_back(fmt::format("02:00:0a:4e:00:{:02x}", i + 1));
  }
  boot.timeout_ms = a.timeout_ms;
  boot.fixed_timeout_ms = a.fixed_timeout_ms;
  boot.link_gbps = a.port_gbps;
  auto plan = switches.install_tree(udp::tree_request({.ranks = a.ranks,
                                                       .job = boot.job,
                                                       .key_tag = boot.key_tag,
                                                       .slots = a.window,
                                                       .slot_bytes = a.slot_bytes,
                                                       .switch_slots = a.switch_slots}));
  if (plan.ok())
    boot.tree = *plan;
  else
    std::fprintf(stderr,
                 "inca launch: no aggregation tree (%s); in-network collectives fall back\n",
                 plan.status().to_string().c_str());
  if (a.verbose)
    std::fprintf(stderr, "inca launch: %u ranks, %s, job %u\n", a.ranks, topo->describe().c_str(),
                 boot.job);

  if (g_stop_signal != 0) return fail("interrupted while setting up; nothing was started");
  std::vector<Rank> ranks(a.ranks);
  for (std::uint32_t r = 0; r < a.ranks; ++r) {
    boot.rank = r;
    boot.switch_address = switches.leaf_address(r);
    if (memif) boot.memif_socket = switches.host_socket(r);
    ranks[r].pid = spawn_rank(memif ? "" : veths.ns(r), udp::to_env(boot), a.command);
    if (a.verbose && ranks[r].pid > 0)
      std::fprintf(stderr, "inca launch: rank %u: pid %d %s %s\n", r, ranks[r].pid,
                   memif ? "on memif" : "in namespace",
                   memif ? boot.memif_socket.c_str() : veths.ns(r).c_str());
    if (ranks[r].pid < 0) ranks[r].status = -1;  // fork failed: counts as a failed rank
  }
  wait_ranks(ranks, std::chrono::duration<double>(a.grace_s));
  // A memif rank removes its EAL directory on the way out; one that crashed
  // leaves it (its prefix: inca-<launcher pid>-rank<r>).
  if (memif)
    for (std::uint32_t r = 0; r < a.ranks; ++r)
      udp::remove_eal_runtime_dir(fmt::format("rank{}", r));

  int failed = 0;
  for (std::uint32_t r = 0; r < a.ranks; ++r) {
    const int status = *ranks[r].status;
    const std::string how = status == -1 ? "could not be started" : describe_exit(status);
    if (how.empty()) continue;
    ++failed;
    std::fprintf(stderr, "inca launch: rank %u (pid %d) %s\n", r, ranks[r].pid, how.c_str());
  }
  switches.stop();
  if (a.verbose) std::fprintf(stderr, "%s", switches.logs().c_str());
  if (g_stop_signal != 0)
    std::fprintf(stderr, "inca launch: interrupted by signal %d; the ranks were stopped\n",
                 g_stop_signal.load());
  if (g_stop_signal != 0 && failed == 0) return 128 + g_stop_signal;
  if (failed > 0) {
    std::fprintf(stderr, "inca launch: %d of %u ranks failed\n", failed, a.ranks);
    return 1;
  }
  return 0;
}

}  // namespace

Action add_launch_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Run N rank processes of a program on a fabric (udp: inca-switch + namespaces; memif: "
      "inca-switch + DPDK memif ports)");
  auto a = std::make_shared<LaunchArgs>();
  cmd->add_option("-n,--ranks", a->ranks, "Rank processes to start")->required();
  cmd->add_option("--fabric", a->fabric, "Fabric of the ranks (udp | memif)")
      ->capture_default_str();
  cmd->add_option("--port-gbps", a->port_gbps, "Rate limit of every switch port (0: none)");
  cmd->add_option("--topology", a->topology,
                  "star (one switch) | leaf-spine (leaves of --hosts-per-leaf ranks, one spine)")
      ->check(CLI::IsMember({"star", "leaf-spine"}))
      ->capture_default_str();
  cmd->add_option("--hosts-per-leaf", a->hosts_per_leaf, "Ranks on each leaf switch")
      ->check(CLI::Range(1u, 250u))
      ->capture_default_str();
  cmd->add_option("--window", a->window, "Slots of the job's tree (chunks in flight per rank)")
      ->capture_default_str();
  cmd->add_option("--slot-bytes", a->slot_bytes, "Payload per slot")->capture_default_str();
  cmd->add_option("--switch-slots", a->switch_slots, "The switch's slot pool")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", a->timeout_ms,
                  "An operation whose peer or switch is silent this long fails (INCA_TIMEOUT_MS)")
      ->capture_default_str();
  cmd->add_option("--fixed-timeout-ms", a->fixed_timeout_ms,
                  "Retransmit after this fixed time, not an adaptive timeout (for busy machines)");
  cmd->add_option("--grace", a->grace_s,
                  "Seconds the other ranks get to finish after one failed, before they are killed")
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", a->verbose, "Print the job and, at the end, the switch's log");
  cmd->add_option("--pcap", a->pcap_dir,
                  "Capture every switch port's frames into DIR/<switch>.pcapng (read them with "
                  "tshark -X lua_script:tools/wireshark/inca.lua)");
  cmd->add_option("command", a->command, "PROGRAM ARGS (after --)")->required();
  return [a] { return launch(*a); };
}

}  // namespace inca::cli
