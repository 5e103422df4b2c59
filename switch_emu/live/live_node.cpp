#include "live/live_node.hpp"

#include <algorithm>

namespace inca::live {

bool LiveNode::flush() {
  bool moved = false;
  for (LinkRing* r : out_) moved |= r->flush();
  return moved;
}

bool LiveNode::backlog_empty() const {
  return std::all_of(out_.begin(), out_.end(),
                     [](const LinkRing* r) { return r->backlog_empty(); });
}

std::size_t LiveNode::queued() const {
  std::size_t n = 0;
  for (const LinkRing* r : in_) n += r->queued();
  return n;
}

Time LiveNode::next_arrival() const {
  Time t = kNever;
  for (const LinkRing* r : in_) t = std::min(t, r->next_arrival());
  return t;
}

void LiveNode::sleep(Time until, const std::function<bool()>& wake_early) {
  // Only this thread takes packets out, so the count can only grow while it
  // sleeps: any growth is a new packet to look at.
  const std::size_t seen = queued();
  const Time now = clock_.now();
  const Time wake = std::min({until, next_arrival(), now + backoff_.max_sleep});
  if (wake <= now) return;
  doorbell_.sleep_until(clock_.at(wake),
                        [&] { return queued() != seen || (wake_early && wake_early()); });
}

}  // namespace inca::live
