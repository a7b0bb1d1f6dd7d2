// Copyright 2026 Trainyard authors.
//
// The one write path of metrics-ingest, shared by webhooks and IngestEvents
// (R-X-01): validate, dedupe on (job id, event id), number the job's events
// (job_seq, gapless), and write each event with its metric points, stage
// history and job state in ONE RocksDB batch (WAL on) before anything is
// acknowledged. In-memory views change only after the write succeeded, so a
// failed or rejected request leaves nothing of itself behind.
//
// Thread-safe: events of one job are serialized; jobs proceed in parallel.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/storage/db.h"
#include "common/time/clock.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/ingest/ingest_metrics.h"
#include "services/metrics/ingest/validate.h"
#include "services/metrics/series/series_store.h"
#include "services/metrics/storage/event_feed.h"
#include "services/metrics/storage/job_state_store.h"
#include "services/metrics/storage/job_states.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

struct IngestOptions {
  ValidationLimits limits;
};

class Ingestor {
 public:
  // Snapshots of a job's state are written every this many events.
  static constexpr uint64_t kSnapshotEvery = 64;

  // All references must outlive the Ingestor; it is the only writer of
  // `jobs` (whose options must be `options`). `clock` is suite time (receive
  // times), `wall_clock` real time (latency metrics). `metrics` may be null.
  Ingestor(storage::Db& db, EventStore& events, SeriesStore& series,
           JobStateStore& states, JobStates& jobs, EventFeed& feed,
           const Clock& clock, const Clock& wall_clock, TrackerOptions options,
           IngestMetrics* metrics);

  // Stores `events` (several jobs allowed; order kept within a job). Each gets
  // a result: ACCEPTED with its job_seq, DUPLICATE with the stored job_seq, or
  // REJECTED with the field and reason (others are still stored). Returns an
  // error, with nothing stored, only when the write itself fails.
  absl::StatusOr<std::vector<v1::IngestResult>> Ingest(
      std::vector<v1::IngestEvent> events, const IngestOptions& options = {});

  // Called after each durable write with the id of every job it grew (live
  // streams wake on it). Set before serving; must be fast and not block.
  using PublishListener = std::function<void(const std::string& job_id)>;
  void SetPublishListener(PublishListener listener) {
    listener_ = std::move(listener);
  }

  // R-X-07: raises a stall WARNING (with a StallPayload, flagging the job's
  // progress as stalled until an event proves it over) for each job on the
  // stall watch due for a check (JobStates::DueForCheck, loaded if need be)
  // that counts as stalled now (domain: DetectStall, with the options' stall
  // thresholds). Returns how many.
  absl::StatusOr<int> CheckStalls();

  // Purges every event, point, history entry and state of the job, under its
  // ingest lock. Returns the number of events deleted (0 when already gone).
  absl::StatusOr<int64_t> DeleteJob(std::string_view job_id);

 private:
  using JobSlot = JobStates::Slot;
  struct JobWork;
  class SlotLocks;
  // Moves the loaded slot's state into `work` (no copy per call) and marks
  // the slot unloaded: CommitLocked puts the new state back; after any
  // failure the slot reloads from RocksDB, i.e. as it was before the call.
  static void CheckOut(const JobStates::SlotHandle& slot, JobWork& work)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot->mu);
  // Stages one event into `work` and `batch`; its metric points wait in
  // work.pending_points for StagePoints.
  absl::Status StageEvent(v1::Event event, JobWork& work,
                          storage::WriteBatch& batch);
  // Stages work.pending_points into the series store in one call.
  absl::Status StagePoints(JobWork& work, storage::WriteBatch& batch);
  // Snapshots where due, writes `batch`, then publishes every staged change.
  // REQUIRES: every work's slot lock held.
  absl::Status CommitLocked(std::vector<JobWork>& work,
                            storage::WriteBatch& batch);
  // A job that has just left the stall watch (finished, paused, ...) is
  // history: its state and series leave the caches now, while their memory
  // is hot, instead of ageing out later (freeing cold memory scattered over
  // the heap made glibc's malloc the largest cost of ingest into many new
  // jobs). They reload if read. Called with no job lock held.
  void DropFinished(const std::vector<JobWork>& work);
  // Tells the listener which jobs grew. Called with no job lock held: waking
  // a thousand subscribers must not hold up the job's next write.
  void Announce(const std::vector<JobWork>& work) const;

  storage::Db& db_;
  EventStore& events_;
  SeriesStore& series_;
  JobStateStore& states_;
  JobStates& jobs_;
  EventFeed& feed_;
  const Clock& clock_;
  const Clock& wall_clock_;
  const TrackerOptions options_;
  IngestMetrics* const metrics_;

  PublishListener listener_;
};

}  // namespace trainyard::metrics
