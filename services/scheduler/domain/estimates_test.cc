// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/estimates.h"

#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1764385200);
const absl::Duration kBuffer = absl::Minutes(5);

TEST(Estimates, R_Q_03_FreeSlotStartsAfterTheBufferWithHighConfidence) {
  auto e = EstimateStarts({}, {absl::Hours(1)}, 3, kBuffer, kNow);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].start, kNow + kBuffer);
  EXPECT_EQ(e[0].confidence, v1::CONFIDENCE_HIGH);
}

TEST(Estimates, R_Q_03_QueuedJobsTakeTheEarliestFreeSlotInOrder) {
  // Two slots: runners free at +1 h (steady) and +3 h (steady).
  std::vector<RunningJob> running = {{absl::Hours(3), true},
                                     {absl::Hours(1), true}};
  auto e = EstimateStarts(
      running, {absl::Hours(2), absl::Hours(1), absl::Hours(1), absl::Hours(1)},
      2, kBuffer, kNow);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].start, kNow + absl::Hours(1) + kBuffer);
  // Second takes the +3 h slot.
  EXPECT_EQ(e[1].start, kNow + absl::Hours(3) + kBuffer);
  // Third: first job's slot frees at 1h05 + 2h = 3h05.
  EXPECT_EQ(e[2].start, kNow + absl::Minutes(185) + kBuffer);
  EXPECT_EQ(e[0].confidence, v1::CONFIDENCE_HIGH);
  EXPECT_EQ(e[1].confidence, v1::CONFIDENCE_MEDIUM);
  EXPECT_EQ(e[2].confidence, v1::CONFIDENCE_MEDIUM);
  EXPECT_EQ(e[3].confidence, v1::CONFIDENCE_LOW);
}

TEST(Estimates, R_Q_01_RunnerWithoutSpeedMakesItsSlotLow) {
  std::vector<RunningJob> running = {{absl::Hours(1), false}};
  auto e = EstimateStarts(running, {absl::Hours(1), absl::Hours(1)}, 1, kBuffer,
                          kNow);
  EXPECT_EQ(e[0].confidence, v1::CONFIDENCE_LOW);
  EXPECT_EQ(e[1].confidence, v1::CONFIDENCE_LOW);
}

TEST(Estimates, R_Q_04_OverTheLoweredLimitTheEarliestReleasesFreeNoSlot) {
  // Limit lowered to 1 with 3 running: the first job starts at the third
  // release.
  std::vector<RunningJob> running = {
      {absl::Hours(1), true}, {absl::Hours(2), true}, {absl::Hours(4), true}};
  auto e = EstimateStarts(running, {absl::Hours(1)}, 1, kBuffer, kNow);
  EXPECT_EQ(e[0].start, kNow + absl::Hours(4) + kBuffer);
}

TEST(Estimates, R_Q_03_RemainingPrefersMeasuredSpeed) {
  RunningJob measured = RemainingOf(absl::Minutes(30), absl::Hours(5),
                                    kNow - absl::Hours(1), kNow);
  EXPECT_EQ(measured.remaining, absl::Minutes(30));
  EXPECT_TRUE(measured.steady);
  RunningJob guessed =
      RemainingOf(std::nullopt, absl::Hours(5), kNow - absl::Hours(1), kNow);
  EXPECT_EQ(guessed.remaining, absl::Hours(4));
  EXPECT_FALSE(guessed.steady);
  RunningJob overdue =
      RemainingOf(std::nullopt, absl::Hours(1), kNow - absl::Hours(2), kNow);
  EXPECT_EQ(overdue.remaining, absl::ZeroDuration());
}

TEST(Estimates, R_X_03_CalibrationIsTheClampedMedianOfRecentRuns) {
  EXPECT_EQ(CalibrationFactor({2.0, 2.0}), 1.0);  // too few
  EXPECT_EQ(CalibrationFactor({1.0, 1.5, 1.2}), 1.2);
  EXPECT_EQ(CalibrationFactor({9.0, 9.0, 9.0}), 3.0);
  EXPECT_EQ(CalibrationFactor({0.1, 0.1, 0.1}), 0.5);
  // Only the last `window` count.
  EXPECT_EQ(CalibrationFactor({3.0, 3.0, 3.0, 1.1, 1.1, 1.1}, 3, 3), 1.1);
}

TEST(Estimates, R_Q_02_NextSlotFree) {
  EXPECT_FALSE(NextSlotFree({}, kNow).has_value());
  EXPECT_EQ(
      *NextSlotFree({{absl::Hours(2), true}, {absl::Hours(1), false}}, kNow),
      kNow + absl::Hours(1));
}

}  // namespace
}  // namespace trainyard::scheduler
