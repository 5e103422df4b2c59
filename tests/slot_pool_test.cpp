// The manager's first-fit slot allocator: placement, release, fragmentation.
#include "manager/slot_pool.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace inca::manager {
namespace {

TEST(SlotPool, AllocatesFirstFitFromTheBottom) {
  SlotPool pool(10);
  EXPECT_EQ(pool.allocate(3), 0u);
  EXPECT_EQ(pool.allocate(4), 3u);
  EXPECT_EQ(pool.allocate(3), 7u);  // exact fit at the end
  EXPECT_EQ(pool.allocate(1), std::nullopt);
  EXPECT_EQ(pool.used(), 10u);
  EXPECT_EQ(pool.free(), 0u);
  EXPECT_EQ(pool.largest_free_range(), 0u);
}

TEST(SlotPool, ReleasedRangeIsReusedByTheNextFittingRequest) {
  SlotPool pool(10);
  ASSERT_EQ(pool.allocate(3), 0u);
  ASSERT_EQ(pool.allocate(4), 3u);
  ASSERT_EQ(pool.allocate(3), 7u);
  ASSERT_TRUE(pool.release(3));
  EXPECT_EQ(pool.free(), 4u);
  EXPECT_EQ(pool.allocate(2), 3u);
  EXPECT_EQ(pool.allocate(2), 5u);
  EXPECT_EQ(pool.allocate(1), std::nullopt);
}

TEST(SlotPool, FragmentationLimitsTheLargestRequestNotTheFreeCount) {
  SlotPool pool(10);
  ASSERT_EQ(pool.allocate(3), 0u);
  ASSERT_EQ(pool.allocate(3), 3u);
  ASSERT_EQ(pool.allocate(3), 6u);
  ASSERT_TRUE(pool.release(0));
  ASSERT_TRUE(pool.release(6));
  EXPECT_EQ(pool.free(), 7u);  // [0,3) and [6,10)
  EXPECT_EQ(pool.largest_free_range(), 4u);
  EXPECT_EQ(pool.allocate(5), std::nullopt);  // 7 free, but not in one piece
  EXPECT_EQ(pool.allocate(4), 6u);            // skips the first gap, too small
  EXPECT_EQ(pool.largest_free_range(), 3u);
  EXPECT_EQ(pool.allocate(3), 0u);
  ASSERT_TRUE(pool.release(3));  // coalesces with nothing: neighbours still held
  EXPECT_EQ(pool.largest_free_range(), 3u);
}

TEST(SlotPool, ReleaseOnlyAcceptsTheBaseOfAHeldRange) {
  SlotPool pool(8);
  ASSERT_EQ(pool.allocate(4), 0u);
  EXPECT_FALSE(pool.release(1));  // inside the range, not its base
  EXPECT_FALSE(pool.release(4));  // free
  EXPECT_TRUE(pool.release(0));
  EXPECT_FALSE(pool.release(0));  // twice
  EXPECT_EQ(pool.used(), 0u);
  EXPECT_EQ(pool.largest_free_range(), 8u);
}

TEST(SlotPool, RejectsEmptyAndOversizedRequests) {
  SlotPool pool(8);
  EXPECT_EQ(pool.allocate(0), std::nullopt);
  EXPECT_EQ(pool.allocate(9), std::nullopt);
  EXPECT_EQ(pool.allocate(std::numeric_limits<std::uint32_t>::max()), std::nullopt);
  EXPECT_EQ(pool.used(), 0u);
  EXPECT_EQ(pool.allocate(8), 0u);

  SlotPool none;
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.allocate(1), std::nullopt);
  EXPECT_EQ(none.largest_free_range(), 0u);
}

}  // namespace
}  // namespace inca::manager
