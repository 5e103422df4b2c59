#include "udp/datagram_rank_driver.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace inca::udp {

DatagramRankDriver::DatagramRankDriver(const protocol::EndpointConfig& endpoint, Time idle_timeout)
    : address_(endpoint.address),
      idle_timeout_(idle_timeout),
      epoch_(std::chrono::steady_clock::now()),
      endpoint_(endpoint) {}

Time DatagramRankDriver::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              epoch_)
             .count() *
         kPicosPerNano;
}

void DatagramRankDriver::deliver(std::span<const std::byte> datagram, Time t) {
  wire::Packet p;
  std::span<const std::byte> payload;
  if (wire::decode(datagram, p.header, payload) != wire::DecodeError::none) {
    ++undecodable_;
    return;
  }
  p.payload = wire::make_payload(payload);
  p.dst = address_;
  endpoint_.on_packet(p, t, outbox_);
}

bool DatagramRankDriver::block_until(const std::function<bool()>& ready, Time deadline) {
  Time last_arrival = now();
  while (true) {
    if (ready()) return true;
    // Every datagram that has arrived goes in before any timer fires, so an
    // answer that waited while we were descheduled is not taken for lost.
    if (drain()) {
      last_arrival = now();
      continue;
    }
    Time t = now();
    if (endpoint_.next_deadline() <= t) {
      endpoint_.on_timer(t, outbox_);
      transmit(outbox_);
      continue;
    }
    if (t >= deadline) return ready();
    if (t >= last_arrival + idle_timeout_) return ready();
    const Time until =
        std::min({deadline, endpoint_.next_deadline(), last_arrival + idle_timeout_});
    wait_for_datagram(std::max<Time>(until - t, 0));
  }
}

void DatagramRankDriver::linger(Time quiet) {
  const Time idle = std::exchange(idle_timeout_, quiet);
  wait_until(kNever);
  idle_timeout_ = idle;
}

std::string DatagramRankDriver::stall_reason() const {
  return fmt::format(
      "no datagram arrived for {} ms (a peer or the switch is gone, or ranks "
      "called different operations)",
      idle_timeout_ / kPicosPerMilli);
}

}  // namespace inca::udp
