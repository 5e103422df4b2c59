#include "dpdk/switch_loop.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace inca::dpdk_switch {
namespace {

constexpr std::uint16_t kRxBurst = 32;
constexpr std::size_t kScratchBytes = 64 * 1024;  // larger than any IPv4 frame
// Empty polls before backing off: first rte_pause, then sleeps.
constexpr std::uint64_t kPausePolls = 64;
constexpr std::uint64_t kSleepPolls = 4096;
constexpr double kQuietSeconds = 0.1;
constexpr long kLongSleepUs = 1000;
constexpr double kHousekeepingSeconds = 0.001;
constexpr double kLinkCheckSeconds = 0.1;

}  // namespace

SwitchLoop::SwitchLoop(const SwitchOptions& options, SwitchPipeline& pipeline,
                       std::vector<DpdkPort> ports, rte_mempool* pool, PcapWriter* pcap,
                       ControlServer* control, InterruptGate* gate)
    : options_(options),
      pipeline_(pipeline),
      ports_(std::move(ports)),
      pool_(pool),
      pcap_(pcap),
      control_(control),
      gate_(gate),
      scratch_(kScratchBytes) {
  for (const DpdkPort& p : ports_)
    egress_.emplace_back(p.id, options.port_gbps, options.port_burst_us, options.max_frame());
}

void SwitchLoop::run(LoopSignals& signals) {
  while (!signals.stop.load(std::memory_order_relaxed)) {
    const std::uint64_t now = rte_get_tsc_cycles();
    bool busy = poll_ports(now);
    for (std::uint16_t p = 0; p < ports_.size(); ++p) {
      egress_[p].flush(now, pipeline_.port_counters(p));
      busy = busy || !egress_[p].empty();
    }
    if (now >= next_housekeeping_) housekeeping(signals, now);
    back_off(busy, now);
  }
}

void SwitchLoop::back_off(bool busy, std::uint64_t now_tsc) {
  ++polls_;
  if (busy) {
    idle_polls_ = 0;
    return;
  }
  ++empty_polls_;
  if (++idle_polls_ == 1) idle_since_ = now_tsc;
  if (idle_polls_ <= kPausePolls) return;
  if (idle_polls_ <= kSleepPolls || options_.idle_sleep_us == 0) {
    rte_pause();
    return;
  }
  // Short sleeps while traffic may resume any moment; after a quiet spell,
  // long ones, so an idle switch costs almost no CPU (the first frame of the
  // next burst then waits up to kLongSleepUs).
  const bool quiet = static_cast<double>(now_tsc - idle_since_) >
                     kQuietSeconds * static_cast<double>(rte_get_tsc_hz());
  const long us = quiet ? std::max<long>(kLongSleepUs, options_.idle_sleep_us)
                        : static_cast<long>(options_.idle_sleep_us);
  const timespec ts{us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, nullptr);
}

bool SwitchLoop::poll_ports(std::uint64_t now_tsc) {
  const std::uint64_t now_ns = tsc_to_ns(now_tsc);
  bool received = false;
  rte_mbuf* rx[kRxBurst];
  for (std::uint16_t p = 0; p < ports_.size(); ++p) {
    const std::uint16_t n = rte_eth_rx_burst(ports_[p].id, 0, rx, kRxBurst);
    if (n == 0) continue;
    received = true;
    if (pcap_) pcap_->capture(ports_[p].id, rx, n, false);
    for (std::uint16_t i = 0; i < n; ++i) handle(p, rx[i], now_ns);
  }
  return received;
}

void SwitchLoop::handle(std::uint16_t port, rte_mbuf* m, std::uint64_t now_ns) {
  const std::uint32_t len = rte_pktmbuf_pkt_len(m);
  if (len > scratch_.size()) {
    ++pipeline_.port_counters(port).rx_packets;
    pipeline_.port_counters(port).drop(DropReason::oversize_frame);
    rte_pktmbuf_free(m);
    return;
  }
  // A pointer into the mbuf when it is one segment, else a copy in scratch.
  const auto* data = static_cast<const std::byte*>(rte_pktmbuf_read(m, 0, len, scratch_.data()));
  const FrameVerdict verdict = pipeline_.on_frame(port, {data, len}, now_ns);
  for (const TxFrame& f : verdict.transmit) send_built(f);
  if (verdict.forward.empty()) {
    rte_pktmbuf_free(m);
    return;
  }
  // One mbuf, referenced once per egress port; each transmit drops one reference.
  if (verdict.forward.size() > 1)
    rte_pktmbuf_refcnt_update(m, static_cast<int16_t>(verdict.forward.size() - 1));
  for (std::uint16_t out : verdict.forward) enqueue(out, m);
}

void SwitchLoop::send_built(const TxFrame& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  char* dst = m ? rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size())) : nullptr;
  if (dst == nullptr) {
    if (m) rte_pktmbuf_free(m);
    pipeline_.port_counters(frame.port).drop(DropReason::no_mbuf);
    return;
  }
  std::memcpy(dst, frame.head.data(), frame.head.size());
  if (!frame.body.empty())
    std::memcpy(dst + frame.head.size(), frame.body.data(), frame.body.size());
  if (!frame.tail.empty())
    std::memcpy(dst + frame.head.size() + frame.body.size(), frame.tail.data(), frame.tail.size());
  enqueue(frame.port, m);
}

void SwitchLoop::enqueue(std::uint16_t port, rte_mbuf* m) {
  if (pcap_) pcap_->capture(ports_[port].id, &m, 1, true);
  egress_[port].push(m, pipeline_.port_counters(port));
}

void SwitchLoop::housekeeping(LoopSignals& signals, std::uint64_t now_tsc) {
  const std::uint64_t hz = rte_get_tsc_hz();
  next_housekeeping_ = now_tsc + static_cast<std::uint64_t>(kHousekeepingSeconds * hz);
  if (now_tsc >= next_link_check_) {
    next_link_check_ = now_tsc + static_cast<std::uint64_t>(kLinkCheckSeconds * hz);
    for (std::uint16_t p = 0; p < ports_.size(); ++p)
      pipeline_.port_counters(p).link_up = link_up(ports_[p].id) ? 1 : 0;
  }
  if (gate_) gate_->between_bursts(idle_polls_ > kPausePolls);
  if (control_)
    control_->poll([this](const wire::ControlRequest& r) { return pipeline_.on_control(r); });
  bool due = signals.report.exchange(false);
  if (options_.stats_interval > 0) {
    if (next_report_ == 0)
      next_report_ = now_tsc + static_cast<std::uint64_t>(options_.stats_interval * hz);
    if (now_tsc >= next_report_) {
      due = true;
      next_report_ = now_tsc + static_cast<std::uint64_t>(options_.stats_interval * hz);
    }
  }
  if (due) report(stdout);
}

void SwitchLoop::report(std::FILE* out) const {
  std::string text = fmt::format("== {} counters ==\n", options_.name);
  text += format_counters(pipeline_.counters());
  const std::vector<EngineDrop> drops = pipeline_.recent_engine_drops();
  if (!drops.empty()) text += "recent engine drops, oldest first:\n";
  for (const EngineDrop& d : drops) text += "  " + format_engine_drop(d) + "\n";
  if (pcap_) text += fmt::format("pcap: written={} failed={}\n", pcap_->written(), pcap_->failed());
  if (control_) text += fmt::format("control: malformed_frames={}\n", control_->malformed());
  // The share of loop turns that found nothing to do: near 0 when the switch
  // is the bottleneck, near 100 when its ports are.
  text += fmt::format(
      "loop: polls={} empty={:.1f}%\n", polls_,
      polls_ ? 100.0 * static_cast<double>(empty_polls_) / static_cast<double>(polls_) : 0.0);
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

}  // namespace inca::dpdk_switch
