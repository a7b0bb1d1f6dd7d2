// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/scheduler.h
// -----------------------------------------------------------------------------
// Scheduler: one timer queue driven by a Clock, on which every pod's
// simulation and every delivery retry waits. There is no thread per pod: a
// single loop thread runs tasks as they come due (Start), or a test runs
// them itself after moving a FakeClock (RunDue).
//
//   Scheduler scheduler(clock);
//   scheduler.At(clock.Now() + absl::Seconds(30), [&] { ... });
//   scheduler.Start(/*time_scale=*/60);   // or, in tests: scheduler.RunDue()
//
// Tasks due at the same time run in the order they were added. A task runs
// without the scheduler's lock held, so it may call At().
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/time/clock.h"
#include "tools/gpusim/sim/latency_histogram.h"

namespace trainyard::gpusim {

class Scheduler {
 public:
  using Task = std::function<void()>;

  // `clock` must outlive the scheduler.
  explicit Scheduler(const Clock& clock);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  // Stops the loop; tasks not run yet are dropped.
  ~Scheduler();

  const Clock& clock() const { return clock_; }

  // Runs `task` once the clock reaches `due` (at once if it has).
  void At(absl::Time due, Task task);

  // Runs on the calling thread every task due by clock().Now(), including
  // tasks they add that are due too. Returns how many ran.
  // REQUIRES: Start() was not called.
  int RunDue();

  // The due time of the earliest task; InfiniteFuture when there is none.
  absl::Time NextDue() const;
  size_t pending() const;

  // Starts the loop thread. `time_scale` is simulated seconds per wall
  // second (the clock's scale): waits for a task are that much shorter in
  // wall time. REQUIRES: time_scale > 0; called at most once.
  void Start(double time_scale);
  // Stops and joins the loop thread. Idempotent.
  void Stop();

  // How late tasks ran after their due time, in simulated time.
  LatencyHistogram Lag() const;

 private:
  struct Timer {
    absl::Time due;
    uint64_t seq;
    Task task;
  };
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };
  // Pops the tasks due by `now` into `out`. REQUIRES: mu_ held.
  void PopDue(absl::Time now, std::vector<Timer>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::priority_queue<Timer, std::vector<Timer>, Later> timers_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  double time_scale_ ABSL_GUARDED_BY(mu_) = 1;
  LatencyHistogram lag_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace trainyard::gpusim
