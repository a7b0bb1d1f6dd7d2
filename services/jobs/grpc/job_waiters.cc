// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/job_waiters.h"

#include <utility>
#include <vector>

namespace trainyard::jobs {

std::optional<JobWaiters::Waiter> JobWaiters::Take(uint64_t id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return std::nullopt;
  Waiter w = std::move(it->second);
  waiters_.erase(it);
  auto [from, to] = by_job_.equal_range(w.job_id);
  for (auto j = from; j != to; ++j) {
    if (j->second == id) {
      by_job_.erase(j);
      break;
    }
  }
  return w;
}

void JobWaiters::Wait(const std::string& job_id, Ready ready,
                      absl::Time deadline, Done done) {
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      id = next_id_++;
      Waiter& w = waiters_[id];
      w.job_id = job_id;
      w.ready = std::move(ready);
      w.done = std::move(done);
      by_job_.emplace(job_id, id);
    }
  }
  if (id == 0) {  // stopped: not parked
    std::move(done)(std::nullopt);
    return;
  }
  const server::DeadlineTimer::Id timer = timer_.Schedule(deadline, [this, id] {
    std::optional<Waiter> w;
    {
      absl::MutexLock lock(&mu_);
      w = Take(id);
    }
    if (w) std::move(w->done)(std::nullopt);
  });
  absl::MutexLock lock(&mu_);
  auto it = waiters_.find(id);
  if (it != waiters_.end()) {
    it->second.timer = timer;
  } else {
    timer_.Cancel(timer);  // completed already
  }
}

void JobWaiters::Observe(const internal::JobRecord& record) {
  std::vector<Waiter> ready;
  {
    absl::MutexLock lock(&mu_);
    auto [from, to] = by_job_.equal_range(record.job().job_id());
    std::vector<uint64_t> ids;
    for (auto it = from; it != to; ++it) {
      if (waiters_.at(it->second).ready(record)) ids.push_back(it->second);
    }
    for (uint64_t id : ids) ready.push_back(*Take(id));
  }
  for (Waiter& w : ready) {
    if (w.timer != 0) timer_.Cancel(w.timer);
    std::move(w.done)(record);
  }
}

void JobWaiters::Stop() {
  std::vector<Waiter> all;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    for (auto& [id, w] : waiters_) all.push_back(std::move(w));
    waiters_.clear();
    by_job_.clear();
  }
  for (Waiter& w : all) {
    if (w.timer != 0) timer_.Cancel(w.timer);
    std::move(w.done)(std::nullopt);
  }
}

}  // namespace trainyard::jobs
