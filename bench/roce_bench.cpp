// What a RoCEv2 contribution costs inca-switch per packet, and the ICRC's
// share of it, next to the inca-over-UDP frame codec:
//   - BM_IncaDecode: wire::decode of one inca packet (the inca CRC-32 included);
//   - BM_RoceIcrc: the ICRC of one RoCEv2 contribution frame;
//   - BM_RoceParse: parse_frame + parse_roce (the ICRC included);
//   - BM_UdpContribution / BM_RoceContribution: one contribution through
//     SwitchPipeline::on_frame, every host's in turn, so that each chunk
//     completes and its results are built (RoCEv2: each with its ICRC) and
//     copied into a transmit buffer, as the switch's loop copies them into
//     mbufs.
// BM_RoceContribution also times the ICRC in the same run (CPU time of the
// benchmark thread, for both) and reports icrc_share = (ICRCs per contribution x one ICRC) / time
// per contribution: one ICRC checked per contribution received and, per completed chunk, one
// computed per result sent (one result per host, so one per contribution).
//
// Run: roce_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <time.h>

#include <cstring>
#include <vector>

#include "dpdk/emulated_hosts.hpp"
#include "dpdk/roce_frame.hpp"
#include "dpdk/roce_host.hpp"
#include "dpdk/switch_pipeline.hpp"
#include "wire/crc32.hpp"
#include "wire/roce_mapping.hpp"

namespace {

using namespace inca;
using namespace inca::dpdk_switch;

constexpr int kHosts = 4;
constexpr std::uint16_t kWindow = 64;
constexpr std::uint32_t kSwitchIp = 0x0a5c00fe;
constexpr std::uint32_t kJob = 1;
constexpr std::uint32_t kKey = 0x5eed;
constexpr std::uint16_t kTree = 2;

MacAddress port_mac(int i) {
  return emulated_port_mac(static_cast<std::uint32_t>(i));
}
UdpEndpoint host(int i) {
  return emulated_host(0x0a5c00, static_cast<std::uint32_t>(i));
}

std::vector<std::byte> contribution(int child, std::uint32_t seq, std::uint32_t bytes) {
  wire::Header h;
  h.type = wire::PacketType::contribution;
  h.dtype = Dtype::i32;
  h.job = kJob;
  h.key_tag = kKey;
  h.tree = kTree;
  h.child = static_cast<std::uint16_t>(child);
  h.sequence = seq;
  h.slot = static_cast<std::uint16_t>(seq % kWindow);
  h.shadow = ((seq / kWindow) & 1) != 0;
  h.count = bytes / 4;
  std::vector<std::byte> payload(bytes);
  for (std::uint32_t i = 0; i < bytes; ++i) payload[i] = static_cast<std::byte>(i * 13 + child);
  std::vector<std::byte> out(wire::kHeaderBytes + bytes);
  wire::encode(h, payload, out);
  return out;
}

// A switch with a tree over kHosts ports and every host's frames for two
// rounds of the window (both shadow sets), so slots are reused as in a run.
struct Bench {
  SwitchPipeline pipeline;
  std::vector<std::vector<std::vector<std::byte>>> frames;  // [seq][host]
  std::vector<std::uint32_t> psn;
};

Bench make_bench(bool roce, std::uint32_t bytes) {
  PipelineConfig cfg;
  cfg.ipv4 = kSwitchIp;
  cfg.engine.slots = 1024;
  cfg.engine.slot_payload_bytes = bytes;
  std::vector<PortIdentity> ids;
  for (int i = 0; i < kHosts; ++i) ids.push_back({"p", port_mac(i)});
  Bench b{SwitchPipeline(cfg, ids), {}, {}};
  wire::TreeInstall t;
  t.job = kJob;
  t.key_tag = kKey;
  t.tree = kTree;
  t.slot_count = kWindow;
  t.slot_payload_bytes = bytes;
  for (int i = 0; i < kHosts; ++i) t.child_ports.push_back(static_cast<std::uint16_t>(i));
  b.pipeline.on_control({1, t});
  std::vector<RoceHost> nics;
  for (int i = 0; i < kHosts && roce; ++i) {
    RoceHostConfig c;
    c.job = kJob;
    c.self = host(i);
    c.switch_port = {port_mac(i), kSwitchIp, kRoceUdpPort};
    c.port = static_cast<std::uint16_t>(i);
    c.qpn = 0x40u + static_cast<std::uint32_t>(i);
    c.ring_entry_bytes = wire::kHeaderBytes + bytes;
    nics.emplace_back(c);
    nics.back().connected(
        std::get<wire::QpInfo>(b.pipeline.on_control({2, nics.back().connect_request()}).body));
    b.psn.push_back(0);
  }
  for (std::uint32_t seq = 0; seq < 2u * kWindow; ++seq) {
    b.frames.emplace_back();
    for (int i = 0; i < kHosts; ++i) {
      const auto inca = contribution(i, seq, bytes);
      if (roce) {
        b.frames.back().push_back(nics[static_cast<std::size_t>(i)].contribution_frame(inca));
        continue;
      }
      std::vector<std::byte> f(kUdpFrameHeadBytes + inca.size());
      write_udp_head(f, host(i), {port_mac(i), kSwitchIp, wire::kDefaultUdpPort}, inca.size());
      std::memcpy(f.data() + kUdpFrameHeadBytes, inca.data(), inca.size());
      b.frames.back().push_back(std::move(f));
    }
  }
  return b;
}

// Rewrites the PSN of a prepared frame (and so its ICRC) without building it again.
void set_psn(std::vector<std::byte>& f, std::uint32_t psn) {
  const std::size_t at = kUdpFrameHeadBytes + 9;
  f[at] = static_cast<std::byte>(psn >> 16);
  f[at + 1] = static_cast<std::byte>(psn >> 8);
  f[at + 2] = static_cast<std::byte>(psn);
  const auto ip = std::span<const std::byte>(f).subspan(kEthernetHeaderBytes);
  const std::uint32_t crc = roce_icrc(ip.first(ip.size() - kIcrcBytes));
  for (std::size_t i = 0; i < kIcrcBytes; ++i)
    f[f.size() - kIcrcBytes + i] = static_cast<std::byte>(crc >> (8 * i));
}

void BM_IncaDecode(benchmark::State& state) {
  const auto packet = contribution(0, 0, static_cast<std::uint32_t>(state.range(0)));
  wire::Header h;
  std::span<const std::byte> payload;
  for (auto _ : state) {
    benchmark::DoNotOptimize(wire::decode(packet, h, payload));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(packet.size()));
}

std::vector<std::byte> one_roce_frame(std::uint32_t bytes) {
  Bench b = make_bench(true, bytes);
  return b.frames[0][0];
}

void BM_RoceIcrc(benchmark::State& state) {
  const auto frame = one_roce_frame(static_cast<std::uint32_t>(state.range(0)));
  const auto ip = std::span<const std::byte>(frame).subspan(kEthernetHeaderBytes);
  for (auto _ : state) benchmark::DoNotOptimize(roce_icrc(ip.first(ip.size() - kIcrcBytes)));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(ip.size()));
}

// The floor: wire::crc32 over as many bytes as the ICRC covers.
void BM_WireCrc32(benchmark::State& state) {
  const auto frame = one_roce_frame(static_cast<std::uint32_t>(state.range(0)));
  const auto bytes = std::span<const std::byte>(frame).subspan(kEthernetHeaderBytes - 8);
  for (auto _ : state) benchmark::DoNotOptimize(wire::crc32(0, bytes.first(bytes.size() - 4)));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void BM_RoceParse(benchmark::State& state) {
  const auto frame = one_roce_frame(static_cast<std::uint32_t>(state.range(0)));
  ParsedFrame f;
  RocePacket p;
  for (auto _ : state) {
    parse_frame(frame, f);
    benchmark::DoNotOptimize(parse_roce(f, p));
  }
}

// This thread's CPU time: on a shared machine wall-clock time also counts
// the time other processes ran, which would dilute the ratio below.
double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// Feeds every host's contribution of chunk after chunk; the time per frame
// is the time per contribution, results included. Returns CPU nanoseconds
// per contribution measured over the loop.
double run_contributions(benchmark::State& state, Bench& b, bool roce) {
  std::size_t seq = 0;
  std::uint64_t now = 0;
  std::int64_t frames = 0;
  std::vector<std::byte> out(16384);
  const double start = thread_cpu_ns();
  for (auto _ : state) {
    const int i = static_cast<int>(frames % kHosts);
    auto& f = b.frames[seq][static_cast<std::size_t>(i)];
    // The host's next PSN (and so a new ICRC): PauseTiming would cost more
    // than a frame, so BM_RoceContribution subtracts this rewrite's time.
    if (roce) set_psn(f, b.psn[static_cast<std::size_t>(i)]++);
    const FrameVerdict v = b.pipeline.on_frame(static_cast<std::uint16_t>(i), f, now += 100);
    // What the switch's loop then does with each frame built (send_built):
    // head, body and tail copied into one transmit buffer.
    for (const TxFrame& tx : v.transmit) {
      std::memcpy(out.data(), tx.head.data(), tx.head.size());
      std::memcpy(out.data() + tx.head.size(), tx.body.data(), tx.body.size());
      std::memcpy(out.data() + tx.head.size() + tx.body.size(), tx.tail.data(), tx.tail.size());
      benchmark::DoNotOptimize(out.data());
    }
    if (++frames % kHosts == 0) seq = (seq + 1) % b.frames.size();
  }
  const double ns = thread_cpu_ns() - start;
  state.SetItemsProcessed(frames);
  return frames > 0 ? ns / static_cast<double>(frames) : 0;
}

void BM_UdpContribution(benchmark::State& state) {
  Bench b = make_bench(false, static_cast<std::uint32_t>(state.range(0)));
  state.counters["ns_per_packet"] = run_contributions(state, b, false);
  if (state.iterations() >= kHosts && b.pipeline.engine().counters().results == 0)
    state.SkipWithError("nothing aggregated");
}

// Nanoseconds per call of `f`, over `calls` calls, in this thread's CPU time.
template <class F>
double time_per_call(int calls, F&& f) {
  const double start = thread_cpu_ns();
  for (int k = 0; k < calls; ++k) {
    f(k);
    benchmark::ClobberMemory();
  }
  return (thread_cpu_ns() - start) / calls;
}

void BM_RoceContribution(benchmark::State& state) {
  const auto bytes = static_cast<std::uint32_t>(state.range(0));
  Bench b = make_bench(true, bytes);
  const double per_packet = run_contributions(state, b, true);
  if (state.iterations() >= kHosts && b.pipeline.port_counters(0).roce_tx == 0)
    state.SkipWithError("no RoCEv2 result sent");
  // In the same run: one ICRC, and the PSN rewrite the loop did per frame
  // (the host's side, not the switch's), timed the same way.
  auto frame = b.frames[0][0];
  const auto ip = std::span<const std::byte>(frame).subspan(kEthernetHeaderBytes);
  constexpr int kCalls = 20000;
  std::uint32_t sink = 0;
  const double icrc =
      time_per_call(kCalls, [&](int) { sink ^= roce_icrc(ip.first(ip.size() - kIcrcBytes)); });
  benchmark::DoNotOptimize(sink);
  const double rewrite =
      time_per_call(kCalls, [&](int k) { set_psn(frame, static_cast<std::uint32_t>(k)); });
  const double switch_ns = per_packet - rewrite;
  state.counters["ns_per_packet"] = switch_ns;
  state.counters["icrc_ns"] = icrc;
  state.counters["icrc_share"] = switch_ns > 0 ? 2 * icrc / switch_ns : 0;
}

BENCHMARK(BM_IncaDecode)->Arg(1024);
BENCHMARK(BM_RoceIcrc)->Arg(256)->Arg(1024)->Arg(4000);
BENCHMARK(BM_WireCrc32)->Arg(256)->Arg(1024)->Arg(4000);
BENCHMARK(BM_RoceParse)->Arg(1024);
BENCHMARK(BM_UdpContribution)->Arg(256)->Arg(1024);
BENCHMARK(BM_RoceContribution)->Arg(256)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
