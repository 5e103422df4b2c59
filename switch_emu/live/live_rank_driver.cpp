#include "live/live_rank_driver.hpp"

#include <algorithm>
#include <exception>
#include <utility>

namespace inca::live {

LiveRankDriver::LiveRankDriver(std::uint32_t rank, LiveNode& node, ProgressTracker& tracker,
                               protocol::EndpointConfig config)
    : rank_(rank), node_(node), tracker_(tracker), endpoint_(std::move(config)) {}

void LiveRankDriver::transmit(protocol::Outbox& out) {
  send_all(out, node_.clock().now());
}

void LiveRankDriver::send_all(protocol::Outbox& out, Time at) {
  for (wire::Packet& p : out) node_.send(0, std::move(p), at);
  out.clear();
}

bool LiveRankDriver::service() {
  bool progressed = node_.flush();
  const bool delivered = node_.poll([&](std::uint16_t, wire::Packet& packet, Time at) {
    // The endpoint's timers run on the wall clock; its answers leave at `at`.
    endpoint_.on_packet(packet, node_.clock().now(), outbox_);
    if (trace_) trace_->host_touched(rank_, at);
    send_all(outbox_, at);
  });
  // Every packet that has arrived goes in before any timer fires: after the
  // thread was descheduled, an answer waiting in the ring must not look lost.
  if (delivered) return true;
  const Time due = endpoint_.next_deadline();
  if (due != kNever) {
    const Time now = node_.clock().now();
    if (due <= now) {
      endpoint_.on_timer(now, outbox_);
      if (trace_) trace_->host_touched(rank_, now);
      progressed |= !outbox_.empty() || endpoint_.next_deadline() != due;
      transmit(outbox_);
    }
  }
  return progressed;
}

bool LiveRankDriver::block_until(const std::function<bool()>& ready, Time deadline) {
  Backoff backoff(node_.backoff());
  while (true) {
    if (ready()) return true;
    if (service()) {
      backoff.reset();
      continue;
    }
    const Time now = node_.clock().now();
    if (now >= deadline) return ready();
    const IdleStep step = backoff.next();
    if (step != IdleStep::sleep) {
      pause_briefly(step);
      continue;
    }
    Time until = std::min(deadline, endpoint_.next_deadline());
    if (!node_.backlog_empty()) until = std::min(until, now + kBacklogRetry);
    if (until != kNever) {
      // Something of ours is due: we are still making progress on our own.
      node_.sleep(until, {});
      continue;
    }
    // Only a packet can help us now. Stop counting ourselves as busy while we
    // sleep, so that the fabric can tell when no packet will ever come.
    const std::uint64_t epoch = tracker_.epoch();
    tracker_.release();
    node_.sleep(kNever, [&] { return tracker_.epoch() != epoch; });
    tracker_.add();
    if (tracker_.epoch() != epoch) return ready();  // no progress possible
  }
}

void LiveRankDriver::run_main(const fabric::RankMain& main) {
  error_ = fabric::run_rank_main(main, rank_, *this);
}

void LiveRankDriver::linger(const std::function<bool()>& all_done) {
  // The rank no longer counts as busy; each packet handled here is still
  // counted until its handler returns, so the tracker stays exact.
  Backoff backoff(node_.backoff());
  while (true) {
    if (service()) {
      backoff.reset();
      continue;
    }
    if (all_done() && node_.backlog_empty()) return;
    const IdleStep step = backoff.next();
    if (step != IdleStep::sleep) {
      pause_briefly(step);
      continue;
    }
    const Time until = node_.backlog_empty() ? kNever : node_.clock().now() + kBacklogRetry;
    node_.sleep(until, all_done);
  }
}

}  // namespace inca::live
