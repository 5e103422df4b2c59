#include "live/live_switch.hpp"

#include "switch_forwarding.hpp"

namespace inca::live {

LiveSwitch::LiveSwitch(std::uint32_t node, const topology::Topology& topology, LiveNode& io,
                       engine::SwitchConfig config)
    : node_(node), topology_(topology), io_(io), engine_(config) {}

std::future<Status> LiveSwitch::post(Control control) {
  std::promise<Status> done;
  std::future<Status> result = done.get_future();
  {
    std::lock_guard<std::mutex> lock(controls_mutex_);
    controls_.emplace_back(std::move(control), std::move(done));
    has_controls_.store(true, std::memory_order_release);
  }
  io_.doorbell().notify();
  return result;
}

void LiveSwitch::drain_controls() {
  std::vector<std::pair<Control, std::promise<Status>>> batch;
  {
    std::lock_guard<std::mutex> lock(controls_mutex_);
    batch.swap(controls_);
    has_controls_.store(false, std::memory_order_relaxed);
  }
  for (auto& [control, done] : batch) done.set_value(control(engine_));
}

void LiveSwitch::handle(std::uint16_t in_port, wire::Packet& packet, Time at) {
  emits_.clear();
  fabric::switch_packet(engine_, topology_, node_, in_port, std::move(packet), emits_);
  if (trace_) trace_->switch_touched(node_, at);
  for (engine::Emit& e : emits_) io_.send(e.port, std::move(e.packet), at);
}

void LiveSwitch::run(const std::atomic<bool>& stop) {
  tune_fabric_thread(io_.backoff());
  Backoff backoff(io_.backoff());
  const std::function<bool()> wake_early = [&] {
    return stop.load(std::memory_order_acquire) || has_controls_.load(std::memory_order_acquire);
  };
  while (!stop.load(std::memory_order_acquire)) {
    if (has_controls_.load(std::memory_order_acquire)) drain_controls();
    bool progressed = io_.flush();
    progressed |= io_.poll(
        [&](std::uint16_t port, wire::Packet& packet, Time at) { handle(port, packet, at); });
    if (progressed) {
      backoff.reset();
      continue;
    }
    const IdleStep step = backoff.next();
    if (step != IdleStep::sleep) {
      pause_briefly(step);
      continue;
    }
    const Time until = io_.backlog_empty() ? kNever : io_.clock().now() + kBacklogRetry;
    io_.sleep(until, wake_early);
  }
}

}  // namespace inca::live
