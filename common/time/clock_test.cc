// Copyright 2026 Trainyard authors.
#include "common/time/clock.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard {
namespace {

using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  clock.Set(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(ScaledClockTest, ScalesElapsedTimeSinceOrigin) {
  FakeClock wall(absl::FromUnixSeconds(1000));
  ScaledClock scaled(wall, absl::FromUnixSeconds(1000), 60.0);
  EXPECT_EQ(scaled.Now(), absl::FromUnixSeconds(1000));
  wall.Advance(absl::Seconds(1));
  EXPECT_EQ(scaled.Now(), absl::FromUnixSeconds(1060));
  EXPECT_EQ(scaled.ToWall(absl::Hours(1)), absl::Minutes(1));
}

TEST(ScaledClockTest, TwoProcessesWithSameOriginAgree) {
  FakeClock wall(absl::FromUnixSeconds(5000));
  ScaledClock a(wall, absl::FromUnixSeconds(1000), 10.0);
  ScaledClock b(wall, absl::FromUnixSeconds(1000), 10.0);
  EXPECT_EQ(a.Now(), b.Now());
  EXPECT_EQ(a.Now(), absl::FromUnixSeconds(1000 + 4000 * 10));
}

TEST(ParseTimeOriginTest, AcceptsRfc3339AndUnixSeconds) {
  EXPECT_THAT(ParseTimeOrigin("1764385200"),
              IsOkAndHolds(absl::FromUnixSeconds(1764385200)));
  EXPECT_THAT(ParseTimeOrigin("2025-11-29T03:00:00Z"),
              IsOkAndHolds(absl::FromUnixSeconds(1764385200)));
  EXPECT_THAT(ParseTimeOrigin("yesterday"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace trainyard
