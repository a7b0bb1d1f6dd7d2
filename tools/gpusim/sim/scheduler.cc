// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/scheduler.h"

#include <utility>

namespace trainyard::gpusim {

Scheduler::Scheduler(const Clock& clock) : clock_(clock) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::At(absl::Time due, Task task) {
  absl::MutexLock lock(&mu_);
  bool earliest = timers_.empty() || due < timers_.top().due;
  timers_.push(Timer{due, next_seq_++, std::move(task)});
  if (earliest) changed_.Signal();
}

void Scheduler::PopDue(absl::Time now, std::vector<Timer>* out) {
  while (!timers_.empty() && timers_.top().due <= now) {
    // priority_queue::top is const; the task is moved out before the pop.
    Timer& top = const_cast<Timer&>(timers_.top());
    lag_.Add(now - top.due);
    out->push_back(std::move(top));
    timers_.pop();
  }
}

int Scheduler::RunDue() {
  int ran = 0;
  std::vector<Timer> due;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      PopDue(clock_.Now(), &due);
    }
    if (due.empty()) return ran;
    for (Timer& t : due) t.task();
    ran += static_cast<int>(due.size());
    due.clear();
  }
}

absl::Time Scheduler::NextDue() const {
  absl::MutexLock lock(&mu_);
  return timers_.empty() ? absl::InfiniteFuture() : timers_.top().due;
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return timers_.size();
}

void Scheduler::Start(double time_scale) {
  {
    absl::MutexLock lock(&mu_);
    time_scale_ = time_scale;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Loop() {
  std::vector<Timer> due;
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      changed_.Wait(&mu_);
      continue;
    }
    absl::Time now = clock_.Now();
    if (timers_.top().due > now) {
      changed_.WaitWithTimeout(&mu_, (timers_.top().due - now) / time_scale_);
      continue;
    }
    PopDue(now, &due);
    mu_.Unlock();
    for (Timer& t : due) t.task();
    due.clear();
    mu_.Lock();
  }
}

LatencyHistogram Scheduler::Lag() const {
  absl::MutexLock lock(&mu_);
  return lag_;
}

}  // namespace trainyard::gpusim
