// Copyright 2026 Trainyard authors.
//
// The lifecycle engine: runs the pure state machine (domain/lifecycle.h) for
// one job at a time and writes each transition (record, effects into the
// outbox, audit, the outbox entry it completes, the input's stream cursor) in
// one RocksDB write batch. Commands fail without writing anything.
//
// Thread-safe: transitions are serialized.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/notify/notifier.h"
#include "common/time/clock.h"
#include "services/jobs/app/jobs_metrics.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/storage/job_store.h"

namespace trainyard::jobs {

class Engine {
 public:
  // `clock` is the suite clock. `on_effects` (may be empty) is called after a
  // transition that queued effects, to wake the effect runner.
  // `metrics` may be null.
  Engine(const Clock& clock, JobStore& store, LifecycleOptions options,
         std::function<void()> on_effects = {}, JobsMetrics* metrics = nullptr);

  // CreateJob. A repeated request_id returns the job it created (also when
  // concurrent). REQUIRES: `spec` normalized (NormalizeSpec).
  absl::StatusOr<internal::JobRecord> Create(const v1::JobSpec& spec,
                                             const Actor& creator,
                                             const std::string& request_id);

  // Applies `input` to the job and writes the transition together with
  // `done` (completed outbox keys) and `cursor`. kNotFound for an unknown
  // job; command errors as Apply() in lifecycle.h.
  absl::StatusOr<internal::JobRecord> Apply(
      const std::string& job_id, const Input& input,
      std::vector<std::string> done = {},
      std::optional<std::pair<std::string, std::string>> cursor = {});

  // Writes outbox completions and/or a cursor without a transition.
  absl::Status Complete(
      std::vector<std::string> done,
      std::optional<std::pair<std::string, std::string>> cursor = {});

  // Completes a notify effect: its outbox entry goes, and the audit entry it
  // reports (if any) records how the delivery ended (R-CAN-05).
  absl::Status CompleteNotification(std::vector<std::string> done,
                                    const internal::NotifyEffect& notify,
                                    const notify::DeliveryOutcome& outcome);

  const LifecycleOptions& options() const { return options_; }
  const Clock& clock() const { return clock_; }
  JobStore& store() { return store_; }

 private:
  std::string NewJobId();

  const Clock& clock_;
  JobStore& store_;
  const LifecycleOptions options_;
  std::function<void()> on_effects_;
  JobsMetrics* const metrics_;
  absl::Mutex mu_;
};

}  // namespace trainyard::jobs
