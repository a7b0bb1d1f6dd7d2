// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/ingestor.h"

#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "services/metrics/domain/errors.h"
#include "services/metrics/domain/raised_events.h"
#include "services/metrics/ingest/validate.h"
#include "services/metrics/series/series_points.h"

namespace trainyard::metrics {

// What one Ingest call does to one job, staged before the write.
struct Ingestor::JobWork {
  std::string job_id;
  const JobStates::SlotHandle* slot = nullptr;  // pinned by the caller
  internal::JobState state;  // checked out of the slot (see CheckOut)
  uint64_t first_seq = 0;    // last_job_seq before this call
  bool is_new = false;
  bool watched = false;  // on the stall watch before this call
  // Set by CommitLocked: the size of the snapshot it staged (0: none), and
  // whether the job is on the stall watch after the call (and when its
  // next check is due).
  size_t snapshot_bytes = 0;
  bool watched_after = false;
  absl::Time next_check = absl::InfiniteFuture();
  absl::flat_hash_map<std::string, uint64_t> ids_in_call;
  std::vector<EventUpdate> event_updates;
  std::vector<SeriesUpdate> series_updates;
  // Points of the METRICS events staged since the last series write: one
  // SeriesStore::Stage per job per call (one tail segment); a
  // rewind flushes them first so that staging follows arrival order. The
  // PointInputs' names may point into their EventPoints' extra_names: safe
  // as this vector grows, since moving an EventPoints moves its names'
  // vector buffer, not the strings in it.
  std::vector<EventPoints> pending_points;
  std::vector<common::v1::EventType> stored_types;
  std::vector<uint64_t> stored_seqs;
};

// The locks of one call's job slots, released on every path when it goes
// out of scope. Add slots in job id order, so that two calls never wait on
// each other in a cycle. The analysis cannot follow locks held in a vector:
// callers assert each slot's lock (slot.mu.AssertHeld()) where they use it.
class Ingestor::SlotLocks {
 public:
  SlotLocks() = default;
  SlotLocks(const SlotLocks&) = delete;
  SlotLocks& operator=(const SlotLocks&) = delete;
  ~SlotLocks() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) {
      (*it)->mu.Unlock();
    }
  }

  // Locks `slot` and keeps it pinned until the end of the scope.
  void Add(JobStates::SlotHandle slot) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    slot->mu.Lock();
    slots_.push_back(std::move(slot));
  }
  // The i-th slot added (locked).
  const JobStates::SlotHandle& slot(size_t i) const { return slots_[i]; }

 private:
  std::vector<JobStates::SlotHandle> slots_;
};

namespace {

v1::Event ToEvent(v1::IngestEvent in, absl::Time now) {
  v1::Event e;
  e.set_job_id(std::move(*in.mutable_job_id()));
  e.set_event_id(std::move(*in.mutable_event_id()));
  e.set_type(in.type());
  e.set_source(in.source() == common::v1::EVENT_SOURCE_UNSPECIFIED
                   ? common::v1::EVENT_SOURCE_CONTAINER
                   : in.source());
  e.set_attempt(in.attempt());
  e.set_attempt_seq(in.attempt_seq());
  *e.mutable_occurred_time() = in.occurred_time();
  *e.mutable_receive_time() = ToProto(now);
  e.set_message(std::move(*in.mutable_message()));
  switch (in.payload_case()) {
    case v1::IngestEvent::kStatus:
      e.mutable_status()->Swap(in.mutable_status());
      break;
    case v1::IngestEvent::kMetrics:
      e.mutable_metrics()->Swap(in.mutable_metrics());
      break;
    case v1::IngestEvent::kCheckpoint:
      e.mutable_checkpoint()->Swap(in.mutable_checkpoint());
      break;
    case v1::IngestEvent::kError:
      e.mutable_error()->Swap(in.mutable_error());
      break;
    case v1::IngestEvent::kLifecycle:
      e.mutable_lifecycle()->Swap(in.mutable_lifecycle());
      break;
    default:
      break;
  }
  e.set_raw_json(std::move(*in.mutable_raw_json()));
  return e;
}

}  // namespace

Ingestor::Ingestor(storage::Db& db, EventStore& events, SeriesStore& series,
                   JobStateStore& states, JobStates& jobs, EventFeed& feed,
                   const Clock& clock, const Clock& wall_clock,
                   TrackerOptions options, IngestMetrics* metrics)
    : db_(db),
      events_(events),
      series_(series),
      states_(states),
      jobs_(jobs),
      feed_(feed),
      clock_(clock),
      wall_clock_(wall_clock),
      options_(options),
      metrics_(metrics) {}

void Ingestor::CheckOut(const JobStates::SlotHandle& slot, JobWork& work) {
  work.slot = &slot;
  work.watched = JobStates::Watches(slot->exists, slot->state);
  work.state = std::move(slot->state);
  slot->loaded = false;
}

absl::Status Ingestor::CommitLocked(std::vector<JobWork>& work,
                                    storage::WriteBatch& batch) {
  for (JobWork& w : work) {
    uint64_t last = w.state.last_job_seq();
    if (last != w.first_seq &&
        (w.is_new || last / kSnapshotEvery != w.first_seq / kSnapshotEvery)) {
      w.snapshot_bytes = states_.StageSnapshot(w.state, batch);
    }
    w.watched_after = JobStates::Watches(last != 0, w.state);
    if (w.watched_after != w.watched) {
      states_.StageWatch(w.job_id, w.watched_after, batch);
    }
    if (w.watched_after) {
      w.next_check = NextStallCheck(w.state, clock_.Now(), options_.stall);
    }
  }
  // The cross-job order (WatchEvents), reserved now, settled after the write.
  std::vector<std::pair<std::string, uint64_t>> feed;
  for (JobWork& w : work) {
    for (uint64_t seq : w.stored_seqs) feed.emplace_back(w.job_id, seq);
  }
  if (!feed.empty()) {
    uint64_t first = feed_.Stage(feed, batch);
    absl::Status written = db_.Write(batch);
    feed_.Done(first);
    RETURN_IF_ERROR(written);
  } else if (!batch.empty()) {
    RETURN_IF_ERROR(db_.Write(batch));
  }
  for (JobWork& w : work) {
    JobSlot& slot = **w.slot;
    slot.mu.AssertHeld();
    for (auto& u : w.event_updates) events_.Publish(u);
    for (auto& u : w.series_updates) series_.Publish(std::move(u));
    if (w.state.last_job_seq() != w.first_seq) slot.exists = true;
    slot.state = std::move(w.state);
    slot.loaded = true;
    if (w.snapshot_bytes > 0) jobs_.Recharge(*w.slot, w.snapshot_bytes);
    if (w.watched_after || w.watched) {
      jobs_.Watch(w.job_id,
                  w.watched_after ? std::optional(w.next_check) : std::nullopt);
    }
    if (metrics_ != nullptr) {
      for (common::v1::EventType t : w.stored_types) metrics_->Ingested(t);
    }
  }
  return absl::OkStatus();
}

void Ingestor::DropFinished(const std::vector<JobWork>& work) {
  for (const JobWork& w : work) {
    if (w.stored_types.empty() || w.watched_after) continue;
    if (w.watched || w.is_new) {
      jobs_.Evict(w.job_id);
      series_.Evict(w.job_id);
    }
  }
}

void Ingestor::Announce(const std::vector<JobWork>& work) const {
  if (!listener_) return;
  for (const JobWork& w : work) {
    if (!w.stored_types.empty()) listener_(w.job_id);
  }
}

absl::StatusOr<int> Ingestor::CheckStalls() {
  int raised = 0;
  for (const std::string& job_id : jobs_.DueForCheck(clock_.Now())) {
    JobStates::SlotHandle handle = jobs_.Find(job_id);
    absl::ReleasableMutexLock lock(&handle->mu);
    absl::Time now = clock_.Now();
    RETURN_IF_ERROR(jobs_.LoadLocked(handle));
    if (!JobStates::Watches(handle->exists, handle->state)) continue;
    std::optional<v1::StallPayload> stall =
        DetectStall(handle->state, now, options_.stall);
    if (!stall.has_value()) {
      jobs_.Watch(job_id, NextStallCheck(handle->state, now, options_.stall));
      continue;
    }
    v1::Event e = StallWarning(handle->state, *std::move(stall), now);
    std::vector<JobWork> work(1);
    JobWork& w = work[0];
    w.job_id = job_id;
    w.first_seq = handle->state.last_job_seq();
    CheckOut(handle, w);
    storage::WriteBatch batch;
    RETURN_IF_ERROR(StageEvent(std::move(e), w, batch));
    RETURN_IF_ERROR(StagePoints(w, batch));
    RETURN_IF_ERROR(CommitLocked(work, batch));
    lock.Release();
    Announce(work);
    ++raised;
  }
  return raised;
}

absl::StatusOr<int64_t> Ingestor::DeleteJob(std::string_view job_id) {
  JobStates::SlotHandle slot = jobs_.Find(job_id);
  absl::MutexLock lock(&slot->mu);
  storage::WriteBatch batch;
  EventUpdate event_update;
  SeriesUpdate series_update;
  ASSIGN_OR_RETURN(int64_t deleted,
                   events_.DeleteJob(job_id, batch, &event_update));
  RETURN_IF_ERROR(series_.DeleteJob(job_id, batch, &series_update));
  states_.DeleteJob(job_id, batch);
  RETURN_IF_ERROR(db_.Write(batch));
  events_.Publish(event_update);
  series_.Publish(std::move(series_update));
  slot->state = NewJobState(job_id);
  slot->exists = false;
  slot->loaded = true;
  jobs_.Watch(std::string(job_id), std::nullopt);
  return deleted;
}

absl::Status Ingestor::StagePoints(JobWork& work, storage::WriteBatch& batch) {
  if (work.pending_points.empty()) return absl::OkStatus();
  std::vector<PointInput> points;
  for (const EventPoints& e : work.pending_points) {
    points.insert(points.end(), e.points.begin(), e.points.end());
  }
  SeriesUpdate update;
  RETURN_IF_ERROR(series_.Stage(work.job_id, points, batch, &update));
  work.series_updates.push_back(std::move(update));
  work.pending_points.clear();
  return absl::OkStatus();
}

absl::Status Ingestor::StageEvent(v1::Event event, JobWork& work,
                                  storage::WriteBatch& batch) {
  internal::JobState& st = work.state;
  event.set_job_seq(st.last_job_seq() + 1);

  // R-X-06: a resumed attempt rolls back later points of earlier attempts.
  if (std::optional<int64_t> resume = ResumeStepOf(st, event)) {
    RETURN_IF_ERROR(StagePoints(work, batch));
    SeriesUpdate update;
    RETURN_IF_ERROR(series_.StageRewind(work.job_id, event.attempt(), *resume,
                                        batch, &update));
    work.series_updates.push_back(std::move(update));
  }
  if (event.has_metrics()) work.pending_points.push_back(SeriesPoints(event));
  if (event.has_status() && !event.status().substatus().empty() &&
      event.status().stage() != common::v1::STAGE_UNSPECIFIED) {
    common::v1::SubstatusEntry entry;
    *entry.mutable_time() = event.occurred_time();
    entry.set_substatus(event.status().substatus());
    if (event.status().has_stage_progress()) {
      entry.set_progress_percent(event.status().stage_progress());
    }
    entry.set_attempt(event.attempt());
    entry.set_job_seq(event.job_seq());
    states_.StageHistory(work.job_id, event.status().stage(), entry, batch);
  }
  std::optional<common::v1::Progress> stalled;  // Before this event.
  if (st.progress().stalled()) stalled = st.progress();
  FoldEvent(options_, event, &st);
  const bool stall_cleared =
      stalled && !st.progress().stalled() && !event.has_stall();
  work.ids_in_call[event.event_id()] = event.job_seq();
  work.stored_types.push_back(event.type());
  work.stored_seqs.push_back(event.job_seq());
  std::optional<std::string_view> diverged;
  if (event.has_metrics()) diverged = DivergedLoss(event.metrics());
  EventUpdate update;
  events_.Stage(event, batch, &update);
  work.event_updates.push_back(std::move(update));
  if (stall_cleared) {
    RETURN_IF_ERROR(StageEvent(StallCleared(event, *stalled), work, batch));
  }
  if (diverged) {
    return StageEvent(DivergenceWarning(event, *diverged), work, batch);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::IngestResult>> Ingestor::Ingest(
    std::vector<v1::IngestEvent> events, const IngestOptions& options) {
  absl::Time now = clock_.Now();
  absl::Time wall_start = wall_clock_.Now();
  std::vector<v1::IngestResult> results(events.size());
  // Valid events by job, in request order within a job; jobs in id order so
  // their locks are always taken in the same order.
  std::map<std::string, std::vector<int>> by_job;
  for (size_t i = 0; i < events.size(); ++i) {
    v1::IngestResult& r = results[i];
    r.set_index(static_cast<int32_t>(i));
    r.set_job_id(events[i].job_id());
    r.set_event_id(events[i].event_id());
    absl::Status valid = ValidateIngestEvent(events[i], now, options.limits);
    if (!valid.ok()) {
      r.set_outcome(v1::INGEST_OUTCOME_REJECTED);
      std::vector<FieldViolation> v = FieldViolations(valid);
      if (!v.empty()) {
        r.set_field(v[0].field);
        r.set_reason(v[0].description);
      } else {
        r.set_reason(std::string(valid.message()));
      }
      continue;
    }
    by_job[events[i].job_id()].push_back(static_cast<int>(i));
  }

  std::vector<JobWork> work;
  work.reserve(by_job.size());
  {
    SlotLocks locks;
    for (const auto& [job_id, indices] : by_job) locks.Add(jobs_.Find(job_id));
    storage::WriteBatch batch;
    size_t job_index = 0;
    for (const auto& [job_id, indices] : by_job) {
      const JobStates::SlotHandle& handle = locks.slot(job_index++);
      handle->mu.AssertHeld();
      RETURN_IF_ERROR(jobs_.LoadLocked(handle));
      JobWork& w = work.emplace_back();
      w.job_id = job_id;
      w.first_seq = handle->state.last_job_seq();
      w.is_new = !handle->exists;
      CheckOut(handle, w);
      // Which of the call's events are stored already: one batched lookup
      // (before StageEvent moves the events).
      std::vector<std::optional<uint64_t>> stored(indices.size());
      if (!w.is_new) {
        std::vector<std::string_view> ids;
        ids.reserve(indices.size());
        for (int i : indices) ids.push_back(events[i].event_id());
        ASSIGN_OR_RETURN(stored, events_.FindByEventIds(job_id, ids));
      }
      for (size_t k = 0; k < indices.size(); ++k) {
        const int i = indices[k];
        v1::IngestResult& r = results[i];
        std::optional<uint64_t> existing = stored[k];
        if (auto it = w.ids_in_call.find(ToAbsl(events[i].event_id()));
            it != w.ids_in_call.end()) {
          existing = it->second;
        }
        if (existing) {
          r.set_outcome(v1::INGEST_OUTCOME_DUPLICATE);
          r.set_job_seq(*existing);
          continue;
        }
        RETURN_IF_ERROR(
            StageEvent(ToEvent(std::move(events[i]), now), w, batch));
        r.set_outcome(v1::INGEST_OUTCOME_ACCEPTED);
        r.set_job_seq(w.ids_in_call[ToAbsl(r.event_id())]);
      }
      RETURN_IF_ERROR(StagePoints(w, batch));
    }
    RETURN_IF_ERROR(CommitLocked(work, batch));
  }  // Unlocks the slots: Announce runs with no job lock held.
  DropFinished(work);
  Announce(work);
  if (metrics_ != nullptr) {
    metrics_->IngestSeconds(
        absl::ToDoubleSeconds(wall_clock_.Now() - wall_start));
  }
  return results;
}

}  // namespace trainyard::metrics
