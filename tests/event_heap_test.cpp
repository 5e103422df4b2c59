// EventHeap: the simulator's pending events come out by time, and events of
// equal time in the order they were scheduled, whatever mix of push, pop and
// replace_top put them there. The reference is a sort by (time, order of
// scheduling) of what is pending.
#include "sim/event_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace inca::sim {
namespace {

struct Pending {
  Time time;
  std::uint32_t order;  // scheduling order, which breaks ties
};

TEST(EventHeap, EqualTimesComeOutInTheOrderTheyWereScheduled) {
  EventHeap<std::uint32_t> heap;
  heap.push(5, 0);
  heap.push(3, 1);
  heap.push(5, 2);
  heap.push(3, 3);
  heap.push(4, 4);
  std::vector<std::uint32_t> out;
  while (!heap.empty()) {
    out.push_back(heap.top().payload);
    heap.pop();
  }
  EXPECT_EQ(out, (std::vector<std::uint32_t>{1, 3, 4, 0, 2}));
}

TEST(EventHeap, ReplaceTopIsPopThenPush) {
  EventHeap<std::uint32_t> heap;
  heap.push(10, 0);
  heap.push(20, 1);
  heap.replace_top(20, 2);  // after 1, scheduled later at the same time
  EXPECT_EQ(heap.top().payload, 1u);
  EXPECT_EQ(heap.top().time(), 20);
  heap.replace_top(15, 3);
  EXPECT_EQ(heap.top().payload, 3u);
  EXPECT_EQ(heap.size(), 2u);
}

// The simulator's pattern: take the earliest, then schedule its successor
// (replace_top) or nothing (pop), and new events at or after now.
TEST(EventHeap, AnyMixOfOperationsMatchesASortedReference) {
  std::mt19937_64 rng(12345);
  EventHeap<std::uint32_t> heap;
  std::vector<Pending> reference;
  std::uint32_t order = 0;
  Time now = 0;
  auto schedule = [&](Time t) {
    heap.push(t, order);
    reference.push_back({t, order++});
  };
  auto earliest = [&] {
    return std::min_element(reference.begin(), reference.end(),
                            [](const Pending& a, const Pending& b) {
                              return a.time != b.time ? a.time < b.time : a.order < b.order;
                            });
  };
  for (int i = 0; i < 64; ++i) schedule(static_cast<Time>(rng() % 50));
  for (int step = 0; step < 20000; ++step) {
    ASSERT_FALSE(heap.empty());
    const auto want = earliest();
    ASSERT_EQ(heap.top().time(), want->time) << "step " << step;
    ASSERT_EQ(heap.top().payload, want->order) << "step " << step;
    now = want->time;
    reference.erase(want);
    // Few distinct times, so that ties are common.
    const Time next = now + static_cast<Time>(rng() % 8);
    switch (rng() % 4) {
      case 0:
        heap.pop();
        break;
      case 1:
        heap.replace_top(next, order);
        reference.push_back({next, order++});
        break;
      default:
        heap.pop();
        schedule(next);
        if (rng() % 2) schedule(now);
    }
    if (heap.empty()) schedule(now + 1);
  }
  EXPECT_EQ(heap.size(), reference.size());
}

}  // namespace
}  // namespace inca::sim
