// A rank of the live fabric: its HostEndpoint and the HostDriver its thread
// blocks through. While the rank program waits, the driver services the
// rank's NIC itself: it flushes the send backlog, feeds arrived packets to
// the endpoint, fires the endpoint's retransmission timers, and otherwise
// backs off (spin, yield, sleep on the doorbell) so that waiting ranks leave
// the cores to the switches.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "fabric.hpp"
#include "live/live_node.hpp"
#include "live/progress_tracker.hpp"
#include "protocol/host_driver.hpp"
#include "protocol/host_endpoint.hpp"
#include "trace/trace_sink.hpp"

namespace inca::live {

class LiveRankDriver final : public protocol::HostDriver {
 public:
  LiveRankDriver(std::uint32_t rank, LiveNode& node, ProgressTracker& tracker,
                 protocol::EndpointConfig config);

  Time now() const override { return node_.clock().now(); }
  protocol::HostEndpoint& endpoint() override { return endpoint_; }
  void transmit(protocol::Outbox& out) override;
  bool block_until(const std::function<bool()>& ready, Time deadline) override;
  trace::TraceSink* trace() const override { return trace_; }
  /// Where this rank's retransmissions are recorded (set between runs).
  void set_trace(trace::TraceSink* sink) { trace_ = sink; }

  /// Runs the rank program on the calling thread; an exception becomes error().
  void run_main(const fabric::RankMain& main);
  /// After the program returned: keeps servicing the NIC (so packets still
  /// sent to this rank are taken and its backlog drains) until all_done().
  void linger(const std::function<bool()>& all_done);
  /// What the last run_main threw ("" when nothing).
  const std::string& error() const { return error_; }

 private:
  /// One round of NIC work; true when anything happened.
  bool service();
  /// Sends the packets of `out` offered to the link at `at`, and clears it.
  void send_all(protocol::Outbox& out, Time at);

  std::uint32_t rank_;
  LiveNode& node_;
  ProgressTracker& tracker_;
  protocol::HostEndpoint endpoint_;
  protocol::Outbox outbox_;  // scratch for packets the endpoint answers with
  std::string error_;
  trace::TraceSink* trace_ = nullptr;
};

}  // namespace inca::live
