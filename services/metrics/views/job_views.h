// Copyright 2026 Trainyard authors.
//
// What the dashboard reads of a job, assembled in one place for the unary
// queries (GetProgress, GetStages, GetCurrentMetrics, GetJobOverview) and the
// live stream (SubscribeJob snapshots and deltas).
//
// Thread-safe.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "common/time/clock.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/series/series_store.h"
#include "services/metrics/storage/job_state_store.h"
#include "services/metrics/storage/job_states.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

class JobViews {
 public:
  // References must outlive the views. `clock` is suite time.
  JobViews(JobStates& jobs, EventStore& events, SeriesStore& series,
           JobStateStore& states, const Clock& clock, TrackerOptions options)
      : jobs_(jobs),
        events_(events),
        series_(series),
        states_(states),
        clock_(clock),
        options_(options) {}

  // kNotFound (JOB_NOT_FOUND) for a job without events. `job_id` is valid
  // (grpc/ checks it).
  absl::StatusOr<internal::JobState> State(std::string_view job_id);
  // Last job_seq and lifecycle state, cheaply; errors as State().
  absl::StatusOr<JobStates::Head> Head(std::string_view job_id);

  common::v1::Progress Progress(const internal::JobState& state) const;
  common::v1::CurrentMetrics Metrics(const internal::JobState& state) const;
  // With each stage's history (R-STAGE-04).
  absl::StatusOr<common::v1::JobStages> Stages(
      const internal::JobState& state) const;
  // The loss curve (R-DASH-04) of every query: GetLossCurve, GetJobOverview,
  // snapshots.
  absl::StatusOr<common::v1::LossCurve> Curve(const CurveQuery& query) const;
  // The job's `count` newest events of `types` (all when empty), oldest
  // first.
  absl::StatusOr<std::vector<v1::Event>> RecentEvents(
      const internal::JobState& state, int count,
      const std::vector<common::v1::EventType>& types = {}) const;
  // Everything at once; `recent_events` newest events matching `types`
  // (oldest first) when > 0. REQUIRES: curve.job_id == state.job_id().
  absl::StatusOr<v1::JobSnapshot> Snapshot(const internal::JobState& state,
                                           const CurveQuery& curve,
                                           int recent_events,
                                           const v1::EventQuery& query);

  EventStore& events() { return events_; }
  const Clock& clock() const { return clock_; }

 private:
  JobStates& jobs_;
  EventStore& events_;
  SeriesStore& series_;
  JobStateStore& states_;
  const Clock& clock_;
  const TrackerOptions options_;
};

}  // namespace trainyard::metrics
