// The retransmission timeout estimator: a multiple of the recent minimum
// round trip within its clamp, and the back-off for spurious resends (each
// doubles the base, up to kMaxSpuriousShift; every kWindow clean samples
// halve it again).
#include "protocol/rto_estimator.hpp"

#include <gtest/gtest.h>

namespace inca::protocol {
namespace {

constexpr Time kInitial = 1000, kMin = 10, kMax = 100000;

RtoEstimator warmed(Time rtt, std::uint32_t samples = 16) {
  RtoEstimator rto(kInitial, kMin, kMax, /*adaptive=*/true);
  for (std::uint32_t i = 0; i < samples; ++i) rto.sample(rtt + i);
  return rto;
}

TEST(RtoEstimator, InitialUntilWarmThenThreeTimesTheMinimumWithinTheClamp) {
  RtoEstimator rto(kInitial, kMin, kMax, true);
  for (int i = 0; i < 15; ++i) EXPECT_FALSE(rto.sample(50 + i));
  EXPECT_EQ(rto.base(), kInitial);
  EXPECT_TRUE(rto.sample(70)) << "the 16th sample ends the warmup";
  EXPECT_EQ(rto.base(), 3 * 50);
  EXPECT_EQ(warmed(1).base(), kMin);
  EXPECT_EQ(warmed(kMax).base(), kMax);
  EXPECT_EQ(rto.timeout(2, 16), (3 * 50) << 2);
  EXPECT_EQ(rto.timeout(5, 1), (3 * 50) << 1) << "backoff capped at max_shift";
}

TEST(RtoEstimator, SpuriousResendsDoubleTheBaseUpToSixteenTimes) {
  RtoEstimator rto = warmed(100);
  for (std::uint32_t k = 1; k <= 6; ++k) {
    rto.spurious();
    const std::uint32_t shift = std::min(k, RtoEstimator::kMaxSpuriousShift);
    EXPECT_EQ(rto.spurious_shift(), shift);
    EXPECT_EQ(rto.base(), Time{300} << shift) << "after " << k;
  }
  // The cap still holds.
  RtoEstimator near_max = warmed(kMax / 4);
  near_max.spurious();
  near_max.spurious();
  EXPECT_EQ(near_max.base(), kMax);
}

TEST(RtoEstimator, CleanRoundTripsHalveTheBackOffOncePerWindow) {
  RtoEstimator rto = warmed(100);
  rto.spurious();
  rto.spurious();
  for (std::uint32_t i = 1; i < RtoEstimator::kWindow; ++i) rto.sample(100);
  EXPECT_EQ(rto.spurious_shift(), 2u);
  rto.sample(100);
  EXPECT_EQ(rto.spurious_shift(), 1u);
  EXPECT_EQ(rto.base(), 600);
  // A spurious resend restarts the count.
  for (std::uint32_t i = 1; i < RtoEstimator::kWindow; ++i) rto.sample(100);
  rto.spurious();
  rto.sample(100);
  EXPECT_EQ(rto.spurious_shift(), 2u);
  for (std::uint32_t i = 0; i < 2 * RtoEstimator::kWindow; ++i) rto.sample(100);
  EXPECT_EQ(rto.spurious_shift(), 0u);
  EXPECT_EQ(rto.base(), 300);
}

TEST(RtoEstimator, FixedTimeoutIgnoresSamplesAndSpuriousResends) {
  RtoEstimator rto(kInitial, kMin, kMax, /*adaptive=*/false);
  for (int i = 0; i < 100; ++i) rto.sample(5);
  rto.spurious();
  EXPECT_EQ(rto.base(), kMax);
  EXPECT_EQ(rto.spurious_shift(), 0u);
}

}  // namespace
}  // namespace inca::protocol
