// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/scheduler.h"

#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

using ::testing::ElementsAre;

TEST(SchedulerTest, RunDueRunsOnlyWhatIsDueInOrder) {
  FakeClock clock;
  Scheduler scheduler(clock);
  std::vector<int> ran;
  absl::Time t0 = clock.Now();
  scheduler.At(t0 + absl::Seconds(2), [&] { ran.push_back(2); });
  scheduler.At(t0 + absl::Seconds(1), [&] { ran.push_back(1); });
  scheduler.At(t0 + absl::Seconds(2), [&] { ran.push_back(3); });  // FIFO tie
  scheduler.At(t0 + absl::Seconds(9), [&] { ran.push_back(9); });
  EXPECT_EQ(scheduler.RunDue(), 0);
  EXPECT_EQ(scheduler.NextDue(), t0 + absl::Seconds(1));
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(scheduler.RunDue(), 3);
  EXPECT_THAT(ran, ElementsAre(1, 2, 3));
  EXPECT_EQ(scheduler.pending(), 1u);
  EXPECT_EQ(scheduler.NextDue(), t0 + absl::Seconds(9));
}

TEST(SchedulerTest, TasksMayScheduleTasks) {
  FakeClock clock;
  Scheduler scheduler(clock);
  int count = 0;
  std::function<void()> again = [&] {
    if (++count < 5) scheduler.At(clock.Now(), again);  // due at once
  };
  scheduler.At(clock.Now(), again);
  EXPECT_EQ(scheduler.RunDue(), 5);
  EXPECT_EQ(count, 5);
  EXPECT_EQ(scheduler.NextDue(), absl::InfiniteFuture());
}

TEST(SchedulerTest, LoopThreadFollowsAScaledClock) {
  // One simulated hour at 1,000,000x is 3.6 ms of wall time.
  RealClock wall;
  ScaledClock clock(wall, wall.Now(), 1e6);
  Scheduler scheduler(clock);
  scheduler.Start(1e6);
  absl::Notification first, second;
  absl::Time due = clock.Now() + absl::Hours(1);
  scheduler.At(due + absl::Hours(1), [&] { second.Notify(); });
  scheduler.At(due, [&] {
    EXPECT_GE(clock.Now(), due);
    first.Notify();
  });
  // Waits on the condition; the bound only catches a hang.
  EXPECT_TRUE(first.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(30)));
  scheduler.Stop();
  EXPECT_EQ(scheduler.Lag().count(), 2);
}

TEST(SchedulerTest, StopDropsPendingTasks) {
  FakeClock clock;
  Scheduler scheduler(clock);
  scheduler.Start(1);
  bool ran = false;
  scheduler.At(clock.Now() + absl::Hours(1), [&] { ran = true; });
  scheduler.Stop();
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace trainyard::gpusim
