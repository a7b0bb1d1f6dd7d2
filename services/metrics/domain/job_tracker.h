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

#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/internal/job_state.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

struct TrackerOptions {
  // |percent change| below this is UNCHANGED (domain.md).
  double unchanged_percent = 1.0;
  // GPU utilization below this ratio raises the low-utilization warning.
  double low_utilization_threshold = 0.5;
  // METRICS samples kept for seconds per step (R-DASH-03: "recent average").
  int speed_window = 50;
};

// A new, empty state for `job_id`: four PENDING stages, attempt 1.
internal::JobState NewJobState(std::string_view job_id);

// Folds `event` (already stored, job_seq assigned) into `state`.
// REQUIRES: event.job_seq() == state.last_job_seq() + 1.
void FoldEvent(const TrackerOptions& options, const v1::Event& event,
               internal::JobState* state);

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

// R-X-07: true when the job has been silent for `timeout` at `now` while one
// of its stages is active, it is not already flagged, and job-control has not
// said it is queued, pausing, paused, cancelling or over.
bool ShouldFlagStall(const internal::JobState& state, absl::Time now,
                     absl::Duration timeout);

}  // namespace trainyard::metrics
