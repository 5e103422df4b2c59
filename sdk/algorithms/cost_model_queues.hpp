// The cost model's shared links (docs/model.md, "Shared links are FIFO
// queues"): a switch port, or a NIC, sends the packets it holds in the order
// they arrived. Flows that reach a link together therefore take turns packet
// by packet and finish within a packet of each other, and a flow that comes
// after the others have gone finds the link free. The exchange Timeline
// (cost_model_timeline.cpp) passes every message through the queue of each
// link of its route in turn, and asks when its first and last two packets
// leave each one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace inca::algorithms {

/// One message's packets entering a link's queue, in picoseconds: packet q
/// (q < packets - 1) enters at first + q x pace and needs `full` on the
/// link; the last one enters `last_feed` after the one before it (at `first`
/// when it is the only one) and needs `last`.
struct PacketTrain {
  double first = 0;
  double pace = 0;  ///< 0: every packet is there at once (the sender's own NIC)
  std::size_t packets = 1;
  double full = 0;
  double last = 0;
  double last_feed = 0;

  /// When packet q enters the queue.
  double entry(std::size_t q) const;
  /// The work of the packets that entered before t (`inclusive`: at t too).
  double entered(double t, bool inclusive) const;
  /// The last moment at or before t that a packet entered (`first` if none did).
  double latest_entry(double t) const;
};

/// The FIFO queues of the links a collective's messages share. The
/// ExchangeTimeline adds each message when its sender posts it and asks for
/// its departures once its last packet has entered (then every packet that
/// can be ahead of it is known).
class LinkQueues {
 public:
  /// Adds a train to `link`'s queue and returns its index there. Trains that
  /// enter at the same moment are served in the order they were added.
  /// What left an idle queue before the train's first packet is forgotten,
  /// which keeps the queues short.
  std::size_t add(std::uint64_t link, const PacketTrain& train);
  /// When packet q of train `index` has left `link` (FIFO: after everything
  /// that entered before it). Asking for the last packet closes the train.
  double departure(std::uint64_t link, std::size_t index, std::size_t q);

 private:
  struct Queue {
    std::vector<PacketTrain> trains;
    std::size_t open = 0;  ///< trains whose last departure was not asked for yet
    double idle_from = 0;  ///< when the last departure asked for leaves
  };
  std::unordered_map<std::uint64_t, Queue> queues_;
};

}  // namespace inca::algorithms
