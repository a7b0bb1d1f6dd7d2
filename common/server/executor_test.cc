// Copyright 2026 Trainyard authors.
#include "common/server/executor.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace trainyard::server {
namespace {

int ThreadNice() {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
}

TEST(ExecutorTest, RunsTasksOnItsThreadsAtItsNiceness) {
  const int base = ThreadNice();
  for (int nice : {0, 7}) {
    std::atomic<int> seen{-100};
    absl::Notification done;
    {
      Executor executor(2, nice);
      executor.Submit([&] {
        seen = ThreadNice();
        done.Notify();
      });
      done.WaitForNotification();
    }
    EXPECT_EQ(seen.load(), nice == 0 ? base : std::min(base + nice, 19))
        << "nice " << nice;
  }
  EXPECT_EQ(ThreadNice(), base);  // the caller's thread is untouched
}

TEST(ExecutorTest, DestructionRunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  {
    Executor executor(1);
    for (int i = 0; i < 100; ++i) executor.Submit([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace trainyard::server
