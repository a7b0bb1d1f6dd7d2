// Copyright 2026 Trainyard authors.
#include "common/server/deadline_timer.h"

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

TEST(DeadlineTimerTest, RunsWhenClockPassesDeadline) {
  FakeClock clock;
  DeadlineTimer timer(clock);
  absl::Notification fired;
  timer.Schedule(clock.Now() + absl::Seconds(30), [&] { fired.Notify(); });
  clock.Advance(absl::Seconds(31));
  timer.Kick();
  fired.WaitForNotification();
  SUCCEED();
}

TEST(DeadlineTimerTest, CancelledCallbackNeverRuns) {
  FakeClock clock;
  bool ran = false;
  absl::Notification later;
  {
    DeadlineTimer timer(clock);
    DeadlineTimer::Id id =
        timer.Schedule(clock.Now() + absl::Seconds(1), [&] { ran = true; });
    EXPECT_TRUE(timer.Cancel(id));
    EXPECT_FALSE(timer.Cancel(id));
    // A later callback proves the timer thread has passed the first deadline.
    timer.Schedule(clock.Now() + absl::Seconds(2), [&] { later.Notify(); });
    clock.Advance(absl::Seconds(5));
    timer.Kick();
    later.WaitForNotification();
  }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace trainyard::server
