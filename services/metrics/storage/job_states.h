// Copyright 2026 Trainyard authors.
//
// The current state of each job (internal::JobState: the job's event log
// folded by the domain rules), held in memory: loaded per job on first use
// from its snapshot (JobStateStore) plus the events after it (EventStore),
// then kept current by the write path. Dashboards (views/, live/) read jobs
// here; the Ingestor is the only writer.
//
// Thread-safe. Readers copy a job's state (or two figures of it) under the
// job's lock; the writer holds the lock of every job it writes from load to
// publish (see Ingestor).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/storage/job_state_store.h"
#include "trainyard/metrics/internal/job_state.pb.h"

namespace trainyard::metrics {

class JobStates {
 public:
  // One job's place. The writer's handle: readers use State/GetHead.
  struct Slot {
    absl::Mutex mu;
    // `state` holds the job's current state (or a new one, exists false,
    // for a job without events). False while the writer has checked the
    // state out, and after a failed write: the next use reloads it.
    bool loaded ABSL_GUARDED_BY(mu) = false;
    // The job has events.
    bool exists ABSL_GUARDED_BY(mu) = false;
    internal::JobState state ABSL_GUARDED_BY(mu);
  };

  // References must outlive this. `options` are the ones the write path
  // folds events with.
  JobStates(EventStore& events, JobStateStore& snapshots,
            TrackerOptions options)
      : events_(events), snapshots_(snapshots), options_(options) {}

  // The job's state, loaded on first use. kNotFound (JOB_NOT_FOUND) when
  // the job has no events.
  absl::StatusOr<internal::JobState> State(std::string_view job_id);
  // The two figures live streams poll, without copying the state. Errors as
  // State().
  struct Head {
    uint64_t last_job_seq = 0;
    common::v1::JobState job_state = common::v1::JOB_STATE_UNSPECIFIED;
  };
  absl::StatusOr<Head> GetHead(std::string_view job_id);

  // Loads every job with a snapshot (stall detection covers jobs not
  // queried since a restart).
  absl::Status LoadAll();

  // ---- The writer's side -------------------------------------------------

  // The job's slot (created unloaded on first use); never null.
  std::shared_ptr<Slot> Find(std::string_view job_id);
  // Every slot, with its job id.
  std::vector<std::pair<std::string, std::shared_ptr<Slot>>> All();
  // Loads `slot`'s state unless loaded: its snapshot plus the events after
  // it, or a new state when the job has none.
  absl::Status LoadLocked(std::string_view job_id, Slot& slot)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);

 private:
  // `read(state)` of a loaded job that has events, under its lock.
  template <typename Read>
  auto ReadState(std::string_view job_id, Read read)
      -> absl::StatusOr<decltype(read(std::declval<internal::JobState>()))>;

  EventStore& events_;
  JobStateStore& snapshots_;
  const TrackerOptions options_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Slot>> slots_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::metrics
