#include "algorithms/cost_model_queues.hpp"

#include <algorithm>
#include <cmath>

namespace inca::algorithms {
namespace {

// Entries this close (in ps) are the same moment: trains that start together
// compute equal entry times up to rounding.
constexpr double kSameMoment = 1e-3;

}  // namespace

double PacketTrain::entry(std::size_t q) const {
  if (packets <= 1) return first;
  if (q + 1 < packets) return first + static_cast<double>(q) * pace;
  return first + static_cast<double>(packets - 2) * pace + last_feed;
}

double PacketTrain::entered(double t, bool inclusive) const {
  const double bound = inclusive ? t + kSameMoment : t - kSameMoment;
  std::size_t whole = 0;  // full packets (all but the last) that entered
  if (packets > 1 && first < bound) {
    whole = pace > 0 ? static_cast<std::size_t>(std::ceil((bound - first) / pace)) : packets - 1;
    whole = std::min(whole, packets - 1);
  }
  const double tail = entry(packets - 1) < bound ? last : 0.0;
  return static_cast<double>(whole) * full + tail;
}

double PacketTrain::latest_entry(double t) const {
  if (packets <= 1 || t <= first) return first;
  if (t + kSameMoment >= entry(packets - 1)) return entry(packets - 1);
  if (pace <= 0) return first;
  const auto q = static_cast<std::size_t>(std::floor((t + kSameMoment - first) / pace));
  return entry(std::min(q, packets - 2));
}

std::size_t LinkQueues::add(std::uint64_t link, const PacketTrain& train) {
  Queue& queue = queues_[link];
  if (queue.open == 0 && queue.idle_from <= train.first) queue.trains.clear();
  queue.trains.push_back(train);
  ++queue.open;
  return queue.trains.size() - 1;
}

double LinkQueues::departure(std::uint64_t link, std::size_t index, std::size_t q) {
  Queue& queue = queues_[link];
  const std::vector<PacketTrain>& trains = queue.trains;
  const PacketTrain& mine = trains[index];
  const double e = mine.entry(q);
  // What entered up to this packet, itself included; at the same moment the
  // trains added earlier go first.
  const std::size_t whole = std::min(q + 1, mine.packets - 1);
  const double own =
      static_cast<double>(whole) * mine.full + (q + 1 == mine.packets ? mine.last : 0.0);
  auto up_to_mine = [&](std::size_t j) {
    return j == index ? own : trains[j].entered(e, j < index);
  };
  // FIFO (Lindley): the packet leaves when the busy period it is in has
  // served all that entered from the period's start up to it. A period
  // starts when a train's first packet enters an idle link, or, when a train
  // enters more slowly than the link sends, with one of its later packets:
  // its latest before this one.
  auto leaves_after = [&](double start) {
    double work = 0;
    for (std::size_t j = 0; j < trains.size(); ++j)
      work += up_to_mine(j) - trains[j].entered(start, false);
    return start + work;
  };
  double leaves = std::max(leaves_after(e), leaves_after(mine.latest_entry(e - kSameMoment)));
  for (const PacketTrain& t : trains)
    if (t.first <= e + kSameMoment)
      leaves = std::max({leaves, leaves_after(t.first), leaves_after(t.latest_entry(e))});
  if (q + 1 == mine.packets) {
    queue.idle_from = std::max(queue.idle_from, leaves);
    --queue.open;
  }
  return leaves;
}

}  // namespace inca::algorithms
