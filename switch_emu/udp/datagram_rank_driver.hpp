// What every rank-process driver shares, whatever carries its datagrams (a
// kernel UDP socket, a DPDK memif port): the endpoint, the wall clock, and
// the wait loop that feeds arriving datagrams to the endpoint, fires its
// timers and gives up after a silence. A subclass only moves datagrams and
// sleeps until one may have arrived.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "protocol/host_driver.hpp"
#include "protocol/host_endpoint.hpp"
#include "wire/header.hpp"

namespace inca::udp {

/// The largest inca datagram, plus one byte so that a longer one is seen
/// truncated (and refused by decode).
inline constexpr std::size_t kDatagramBytes = wire::kHeaderBytes + wire::kMaxPayloadBytes + 1;

/// True for a packet a rank sends to a peer rank (point-to-point data and
/// acks, switched at layer 2) rather than to its leaf switch.
inline bool addressed_to_peer(const wire::Packet& p) {
  return p.header.type == wire::PacketType::p2p || p.header.type == wire::PacketType::ack;
}

class DatagramRankDriver : public protocol::HostDriver {
 public:
  /// Wall-clock time since the driver was created.
  Time now() const override;
  protocol::HostEndpoint& endpoint() override { return endpoint_; }
  bool block_until(const std::function<bool()>& ready, Time deadline) override;
  std::string stall_reason() const override;
  /// Keeps feeding arriving datagrams to the endpoint (acknowledging what a
  /// peer retransmits) until none came for `quiet`.
  void linger(Time quiet);

  /// Datagrams received that were no valid inca packet, and sends that failed.
  std::uint64_t undecodable() const { return undecodable_; }
  std::uint64_t send_errors() const { return send_errors_; }

 protected:
  /// `idle_timeout`: a wait in which no datagram arrives for this long gives
  /// up (a peer or the switch is gone): a process fabric cannot see that
  /// every rank is blocked, as the simulator can, so silence is its only hint.
  DatagramRankDriver(const protocol::EndpointConfig& endpoint, Time idle_timeout);

  /// Feeds every datagram waiting to the endpoint (deliver) and sends the
  /// answers; true when any came.
  virtual bool drain() = 0;
  /// Sleeps until a datagram may have arrived, at most `wait`.
  virtual void wait_for_datagram(Time wait) = 0;
  /// Decodes one received datagram and hands it to the endpoint; its answers
  /// collect in outbox_. Undecodable datagrams are counted and dropped.
  void deliver(std::span<const std::byte> datagram, Time t);

  protocol::Outbox outbox_;  // what the endpoint answers with
  std::uint64_t undecodable_ = 0;
  std::uint64_t send_errors_ = 0;

 private:
  std::uint32_t address_;
  Time idle_timeout_;
  std::chrono::steady_clock::time_point epoch_;
  protocol::HostEndpoint endpoint_;
};

}  // namespace inca::udp
