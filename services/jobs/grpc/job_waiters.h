// Copyright 2026 Trainyard authors.
//
// Calls that answer once a job reaches some state (CancelJob's
// wait_for_termination) park here instead of holding an RPC thread: the
// store's observer (Observe) sees every written record and completes the
// waiters it satisfies; a DeadlineTimer completes the others at their
// deadline; Stop (the host's drain) completes all, so shutdown never waits
// for a parked call.
//
// Thread-safe. `done` runs exactly once, on the thread that completed the
// wait (a writer holding the engine's lock, or the timer thread): it must be
// quick (hand the answer to an executor).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/deadline_timer.h"
#include "trainyard/jobs/internal/job_record.pb.h"

namespace trainyard::jobs {

class JobWaiters {
 public:
  using Ready = std::function<bool(const internal::JobRecord&)>;
  // The record that satisfied `ready`; nullopt at the deadline or Stop.
  using Done = absl::AnyInvocable<void(std::optional<internal::JobRecord>) &&>;

  // `timer` must outlive this (its clock is the deadline's).
  explicit JobWaiters(server::DeadlineTimer& timer) : timer_(timer) {}

  // Parks `done` until a record of `job_id` satisfies `ready` or `deadline`.
  // The caller then passes the job's current record to Observe, so a change
  // written before the wait began is not missed.
  void Wait(const std::string& job_id, Ready ready, absl::Time deadline,
            Done done);

  // The store observer.
  void Observe(const internal::JobRecord& record);

  // Completes every waiter (nullopt); later waits complete at once.
  void Stop();

 private:
  struct Waiter {
    std::string job_id;
    Ready ready;
    Done done;
    server::DeadlineTimer::Id timer = 0;
  };
  // Removes waiter `id`; nullopt if already completed.
  std::optional<Waiter> Take(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  server::DeadlineTimer& timer_;
  absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, uint64_t> by_job_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::jobs
