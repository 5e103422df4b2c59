// The egress rate limiter's token bucket, on a tick clock the test controls.
#include "dpdk/token_bucket.hpp"

#include <gtest/gtest.h>

namespace inca::dpdk_switch {
namespace {

TEST(TokenBucket, EarnsTokensAtItsRateUpToItsDepth) {
  TokenBucket b(2.0, 100.0);  // 2 bytes per tick, 100 bytes deep, starts full
  b.advance(1000);
  EXPECT_TRUE(b.can_take(100));
  EXPECT_FALSE(b.can_take(101));
  b.take(100);
  EXPECT_FALSE(b.can_take(1));
  b.advance(1010);  // 10 ticks: 20 bytes
  EXPECT_TRUE(b.can_take(20));
  EXPECT_FALSE(b.can_take(21));
  b.advance(1005);  // time going backwards earns nothing
  EXPECT_FALSE(b.can_take(21));
  b.advance(100000);  // a long pause is capped at the depth
  EXPECT_TRUE(b.can_take(100));
  EXPECT_FALSE(b.can_take(101));
}

TEST(TokenBucket, ZeroRateIsUnlimited) {
  TokenBucket b;
  EXPECT_TRUE(b.unlimited());
  b.take(1'000'000);
  EXPECT_TRUE(b.can_take(1'000'000'000));
}

}  // namespace
}  // namespace inca::dpdk_switch
