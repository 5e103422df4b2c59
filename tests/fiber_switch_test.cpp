// FiberSwitch: a fiber runs to its end on its own stack, and the stacks of
// finished fibers are reused by the next fibers of the same size.
#include <gtest/gtest.h>

#include "runtime/fiber_switch.hpp"

namespace inca::runtime {
namespace {

namespace ctx = boost::context;

// Runs one fiber that yields once; returns the address of a local of its body.
const void* run_fiber(std::size_t stack_bytes) {
  FiberSwitch fiber;
  const void* local_at = nullptr;
  bool finished = false;
  fiber.create(stack_bytes, [&](ctx::fiber&& scheduler) {
    fiber.enter_fiber(std::move(scheduler));
    int local = 0;
    local_at = &local;
    fiber.yield();
    finished = true;
    return fiber.finish_fiber();
  });
  fiber.resume();
  EXPECT_FALSE(finished);
  fiber.resume();
  EXPECT_TRUE(finished);
  return local_at;
}

TEST(FiberSwitch, AFinishedFibersStackServesTheNextFiberOfTheSameSize) {
  FiberStackPool& pool = FiberStackPool::local();
  constexpr std::size_t kStack = 128 * 1024;
  const void* first = run_fiber(kStack);
  ASSERT_NE(first, nullptr);
  const std::size_t kept = pool.kept();
  EXPECT_GE(kept, 1u);
  // The next fiber takes the kept stack and gives it back: the pool stays
  // the same size, and the body's frame is where the first one's was.
  EXPECT_EQ(run_fiber(kStack), first);
  EXPECT_EQ(pool.kept(), kept);
  // Another size replaces what is kept.
  run_fiber(2 * kStack);
  EXPECT_EQ(pool.kept(), 1u);
}

}  // namespace
}  // namespace inca::runtime
