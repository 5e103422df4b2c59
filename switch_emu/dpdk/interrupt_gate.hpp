// Keeps DPDK's interrupt thread out of the way of a polling thread.
//
// The memif PMD (DPDK 22.11) handles its control channel on the EAL
// interrupt thread. When a peer leaves, that thread unmaps the shared rings
// and frees their regions while the polling thread may be inside
// rte_eth_rx_burst or rte_eth_tx_burst on them; the process then dies of
// SIGSEGV (seen on inca-switch when a load generator or rank exits under CPU
// load). The PMD takes no lock an application could share, so the gate parks
// the interrupt thread in a callback of its own, on an always-readable
// eventfd, and lets it run only in windows that the polling thread opens
// between bursts. Every PMD callback then runs while no burst is in flight.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "inca/status.hpp"

struct rte_intr_handle;

namespace inca::dpdk_switch {

/// Serialises the EAL interrupt thread with one polling thread.
class InterruptGate {
 public:
  /// Registers the gate's callback and waits until the interrupt thread is
  /// parked in it. Fails when the EAL cannot take another interrupt source.
  static Result<std::unique_ptr<InterruptGate>> open();
  InterruptGate(const InterruptGate&) = delete;
  InterruptGate& operator=(const InterruptGate&) = delete;
  /// Releases the interrupt thread for good and unregisters the callback.
  ~InterruptGate();

  /// Lets the interrupt thread handle whatever is pending (memif connects and
  /// disconnects, alarms) and returns once it is parked again. Call it
  /// between bursts, never inside one.
  void window();
  /// Opens a window when one is due: every kIdleInterval while the caller is
  /// idle (it would sleep anyway, and a peer's handshake needs one window per
  /// message), every kBusyInterval while it is busy (a window costs a wake-up
  /// of the interrupt thread and back; a departed peer's rings stay mapped
  /// until its disconnect runs, so deferring it is harmless).
  void between_bursts(bool idle);

  static constexpr std::chrono::milliseconds kIdleInterval{1};
  static constexpr std::chrono::milliseconds kBusyInterval{100};

 private:
  InterruptGate() = default;
  static void on_ready(void* gate);
  void park();

  int event_fd_ = -1;
  rte_intr_handle* handle_ = nullptr;
  bool registered_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t parks_ = 0;    // times the interrupt thread entered the gate
  std::uint64_t opened_ = 0;   // windows the polling thread opened
  std::uint64_t entered_ = 0;  // of those, windows the interrupt thread went through
  bool closing_ = false;
  std::chrono::steady_clock::time_point last_window_;  // polling thread only
};

}  // namespace inca::dpdk_switch
