#include "dpdk/interrupt_gate.hpp"

#include <rte_interrupts.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace inca::dpdk_switch {
namespace {

// The interrupt thread is idle in epoll_wait when the gate opens, so it
// parks within a scheduling delay; a machine that cannot manage this in
// seconds has no interrupt thread to speak of.
constexpr auto kFirstParkTimeout = std::chrono::seconds(10);

}  // namespace

Result<std::unique_ptr<InterruptGate>> InterruptGate::open() {
  std::unique_ptr<InterruptGate> gate(new InterruptGate());
  // Created readable and never drained while open: the EAL's epoll is
  // level-triggered, so the thread comes back to the gate after each window.
  gate->event_fd_ = ::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
  if (gate->event_fd_ < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("interrupt gate: eventfd: {}", std::strerror(errno)));
  gate->handle_ = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
  if (gate->handle_ == nullptr || rte_intr_fd_set(gate->handle_, gate->event_fd_) != 0 ||
      rte_intr_type_set(gate->handle_, RTE_INTR_HANDLE_EXT) != 0)
    return make_error(StatusCode::io_error, "interrupt gate: no interrupt handle");
  if (const int rc =
          rte_intr_callback_register(gate->handle_, &InterruptGate::on_ready, gate.get());
      rc < 0)
    return make_error(StatusCode::io_error,
                      fmt::format("interrupt gate: callback: {}", std::strerror(-rc)));
  gate->registered_ = true;
  bool parked = false;
  {
    std::unique_lock lock(gate->mutex_);
    parked = gate->changed_.wait_for(lock, kFirstParkTimeout, [&] { return gate->parks_ > 0; });
  }
  if (!parked)
    return make_error(StatusCode::timeout, "interrupt gate: the EAL interrupt thread never ran");
  return gate;
}

InterruptGate::~InterruptGate() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  // Waits while the callback is still running (the thread is leaving it now).
  if (registered_) rte_intr_callback_unregister_sync(handle_, &InterruptGate::on_ready, this);
  if (handle_ != nullptr) rte_intr_instance_free(handle_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

void InterruptGate::on_ready(void* gate) {
  static_cast<InterruptGate*>(gate)->park();
}

void InterruptGate::park() {
  std::unique_lock lock(mutex_);
  if (closing_) {
    // Not readable any more, so the thread sleeps until the source is gone.
    std::uint64_t value = 0;
    [[maybe_unused]] const auto n = ::read(event_fd_, &value, sizeof(value));
    return;
  }
  ++parks_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return closing_ || opened_ > entered_; });
  entered_ = opened_;
}

void InterruptGate::window() {
  {
    std::unique_lock lock(mutex_);
    const std::uint64_t parks = parks_;
    ++opened_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return closing_ || parks_ > parks; });
  }
  last_window_ = std::chrono::steady_clock::now();
}

void InterruptGate::between_bursts(bool idle) {
  const auto since = std::chrono::steady_clock::now() - last_window_;
  if (since >= (idle ? std::chrono::steady_clock::duration(kIdleInterval)
                     : std::chrono::steady_clock::duration(kBusyInterval)))
    window();
}

}  // namespace inca::dpdk_switch
