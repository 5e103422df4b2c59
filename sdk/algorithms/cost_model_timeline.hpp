// The host algorithms' exchange steps in the cost model (docs/model.md,
// "Exchanges" and "Shared links are FIFO queues"): every rank runs its own
// sequence of steps and goes on as soon as its own messages are through, so
// ranks drift apart and a message meets, on a shared link, whatever other
// ranks' messages of any step are queued there at that moment.
#pragma once

#include <cstddef>
#include <vector>

#include "inca/cost_model.hpp"

namespace inca::algorithms {

/// Bytes on the wire for a message of m payload bytes cut into packets of at
/// most `payload` bytes with `overhead` bytes each (an empty message is one packet).
double wire_bytes(std::size_t m, std::size_t payload, std::size_t overhead);

/// A collective's exchange steps, run message by message in time order.
class ExchangeTimeline {
 public:
  explicit ExchangeTimeline(const ModelFabric& fabric) : fabric_(fabric) {}

  /// Appends a step: its flows move `bytes` each from sender to receiver
  /// (`reverse`: receiver to sender); receivers reduce what arrived when
  /// `reduces`; a sender waits for its send to complete (acknowledged, above
  /// the eager limit) when `sender_waits`.
  void step(const ExchangeStep& step, std::size_t bytes, bool reduces, bool sender_waits = true,
            bool reverse = false);

  /// Picoseconds until the last rank is done with the last step.
  double run() const;

 private:
  struct Step {
    const ExchangeStep* step;
    std::size_t bytes;
    bool reduces, sender_waits, reverse;
  };
  const ModelFabric& fabric_;
  std::vector<Step> steps_;
};

}  // namespace inca::algorithms
