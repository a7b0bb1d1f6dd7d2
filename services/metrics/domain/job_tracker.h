// Copyright 2026 Trainyard authors.
//
// The rules that turn a job's events into what the dashboard shows: progress
// (R-DASH-01..03), current metrics (R-DASH-05), the four stages (R-STAGE-01,
// 02, 03, 05, 06). Plain functions over protos: no clock, no storage.
//
// FoldEvent is deterministic (it reads only the event's own times), so the
// state can be rebuilt from the event log after a restart. The Project*
// functions add what ticks with time (elapsed, remaining, "taking longer than
// usual") as of a given `now`.
#pragma once

#include <optional>

#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/internal/job_state.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// R-X-07: when an active job counts as stalled (common.proto StallReason).
struct StallOptions {
  // NO_HEARTBEAT: no event at all for this long.
  absl::Duration heartbeat_timeout = absl::Minutes(5);
  // METRIC_SILENCE, while TRAINING: events arrive but no METRICS event for
  // this many recent reporting intervals, and at least min_metric_silence.
  double metric_silence_intervals = 3;
  absl::Duration min_metric_silence = absl::Minutes(10);
  // SPEED_DROP: the median of the recent seconds per step (over the speed
  // window, interval by interval, so that one validation pause does not
  // count) above this many times the attempt's baseline (the same median
  // over its first full window); over once back at or below
  // speed_recovered_factor times it.
  double speed_drop_factor = 3;
  double speed_recovered_factor = 2;
};

struct TrackerOptions {
  // |percent change| below this is UNCHANGED (domain.md).
  double unchanged_percent = 1.0;
  // GPU utilization below this ratio raises the low-utilization warning.
  double low_utilization_threshold = 0.5;
  // METRICS samples kept for seconds per step (R-DASH-03: "recent average").
  int speed_window = 50;
  StallOptions stall;
};

// A new, empty state for `job_id`: four PENDING stages, attempt 1.
internal::JobState NewJobState(std::string_view job_id);

// Folds `event` (already stored, job_seq assigned) into `state`. A container
// event of an attempt before the current one (delivered late) and a METRICS
// event below the current attempt's highest step (out of order) change
// nothing shown: progress, current metrics, trends, speed and stages follow
// the highest step of the current attempt.
// REQUIRES: event.job_seq() == state.last_job_seq() + 1.
void FoldEvent(const TrackerOptions& options, const v1::Event& event,
               internal::JobState* state);

// The resume step `event` itself reports, in an attempt after the first: the
// resumed_from_step of its status (the container's "Resumed from step N") or
// of job-control's lifecycle payload. nullopt otherwise. The one test of "this
// event is a rewind" that needs no state (live deltas use it; ResumeStepOf
// adds what only the state knows).
std::optional<int64_t> ReportedResumeStep(const v1::Event& event);

// The step `event` makes the job resume from (R-STAGE-05, R-X-06: later
// points of earlier attempts are rolled back): ReportedResumeStep, or 0 for the
// first METRICS event of an attempt recovering from an interruption that no
// resume step was reported for (interrupted before its first checkpoint:
// FoldEvent closes the recovery "resumed from step 0"). nullopt otherwise. Call
// before folding `event` into `state`.
std::optional<int64_t> ResumeStepOf(const internal::JobState& state,
                                    const v1::Event& event);

// Progress as of `now` (R-DASH-01..03).
common::v1::Progress ProjectProgress(const internal::JobState& state,
                                     absl::Time now);
// The stages as of `now`, without history (R-STAGE-01..03, 05, 06).
common::v1::JobStages ProjectStages(const internal::JobState& state,
                                    absl::Time now);

// R-STAGE-03 defaults: preprocessing 2-5 min, model loading 10-15 min (3-5
// min from cache), training 8-20 h, finalization 5-10 min.
common::v1::DurationRange DefaultStageEstimate(common::v1::Stage stage,
                                               bool model_cache_hit);

// True for a terminal job state (COMPLETED, FAILED, CANCELLED).
bool IsTerminal(common::v1::JobState state);

// False once the container has finished or job-control has said the job is
// queued, pausing, paused, cancelling or over: no stall is raised then, and
// none stays flagged. Only an event changes it (FoldEvent), so the jobs to
// watch for stalls are those it was true for after their last event.
bool MayStall(const internal::JobState& state);

// R-X-07: why the job counts as stalled at `now`, as the payload of the
// warning to raise: the first that applies (StallOptions) of
//   - NO_HEARTBEAT, or SUSPECTED_PREEMPTION for a spot job that job-control
//     has not yet seen interrupted;
//   - METRIC_SILENCE and SPEED_DROP, only while TRAINING runs (not while it
//     recovers), with METRICS due from the job's latest (re)start.
// nullopt when none applies, when none of its stages is active, when
// job-control has said it is queued, pausing, paused, cancelling or over, or
// when the job is already flagged (unless for a training reason, and it has
// now gone silent). A flag ends with the event that proves the reason gone
// (FoldEvent): any event for NO_HEARTBEAT and SUSPECTED_PREEMPTION, a METRICS
// event for METRIC_SILENCE, a METRICS event back within speed_recovered_factor
// of the baseline for SPEED_DROP; and a job that can no longer stall (paused,
// over) is never left flagged.
std::optional<v1::StallPayload> DetectStall(const internal::JobState& state,
                                            absl::Time now,
                                            const StallOptions& options);

// When the stall check must next look at the job if no event arrives: a
// time before which DetectStall(state, t, options) returns nullopt for every
// t (a lower bound: looking earlier is harmless). `now` when it may already
// count (a speed drop is judged from the state alone); InfiniteFuture when
// only an event can make it stall (it cannot stall, or is flagged for
// silence already).
absl::Time NextStallCheck(const internal::JobState& state, absl::Time now,
                          const StallOptions& options);

}  // namespace trainyard::metrics
