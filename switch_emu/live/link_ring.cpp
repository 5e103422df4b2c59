#include "live/link_ring.hpp"

#include <utility>

namespace inca::live {

LinkRing::LinkRing(const topology::LinkSpec& spec, std::size_t capacity, Doorbell& receiver)
    : ring_(capacity), pacer_(spec.gbps), latency_(spec.latency), receiver_(receiver) {}

void LinkRing::send(wire::Packet&& packet, Time at) {
  const std::size_t bytes = packet.wire_bytes();
  const Time serialise = pacer_.serialise(bytes);
  if (at > pacer_.busy_until() && counters_.packets > 0) counters_.idle += at - pacer_.busy_until();
  const Time tx_end = pacer_.book(at, bytes);
  if (trace_)
    trace_->link_send(trace_node_, trace_port_, at, tx_end - serialise, tx_end, tx_end + latency_,
                      packet);
  InFlight f{tx_end + latency_, std::move(packet)};
  counters_.packets++;
  counters_.bytes += bytes;
  counters_.busy += serialise;
  if (backlog_.empty() && ring_.push(f)) {
    receiver_.ring();
    return;
  }
  backlog_.push_back(std::move(f));
}

bool LinkRing::flush() {
  bool moved = false;
  while (!backlog_.empty() && ring_.push(backlog_.front())) {
    backlog_.pop_front();
    moved = true;
  }
  if (moved) receiver_.ring();
  return moved;
}

}  // namespace inca::live
