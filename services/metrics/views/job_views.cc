// Copyright 2026 Trainyard authors.
#include "services/metrics/views/job_views.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {

absl::StatusOr<internal::JobState> JobViews::State(std::string_view job_id) {
  return jobs_.State(job_id);
}

absl::StatusOr<JobStates::Head> JobViews::Head(std::string_view job_id) {
  return jobs_.GetHead(job_id);
}

common::v1::Progress JobViews::Progress(const internal::JobState& state) const {
  return ProjectProgress(state, clock_.Now());
}

common::v1::CurrentMetrics JobViews::Metrics(
    const internal::JobState& state) const {
  common::v1::CurrentMetrics m = state.metrics();
  m.set_low_utilization_threshold(options_.low_utilization_threshold);
  m.set_low_utilization_warning(m.has_gpu_utilization() &&
                                m.gpu_utilization().value() <
                                    options_.low_utilization_threshold);
  if (m.gpu_memory_total_bytes() > 0) {
    m.set_gpu_memory_percent(100.0 *
                             static_cast<double>(m.gpu_memory_used_bytes()) /
                             static_cast<double>(m.gpu_memory_total_bytes()));
  }
  *m.mutable_as_of() = state.progress().last_event_time();
  return m;
}

absl::StatusOr<common::v1::JobStages> JobViews::Stages(
    const internal::JobState& state) const {
  common::v1::JobStages stages = ProjectStages(state, clock_.Now());
  RETURN_IF_ERROR(states_.FillHistory(&stages));
  return stages;
}

absl::StatusOr<common::v1::LossCurve> JobViews::Curve(
    const CurveQuery& query) const {
  return series_.GetLossCurve(query);
}

absl::StatusOr<std::vector<v1::Event>> JobViews::RecentEvents(
    const internal::JobState& state, int count,
    const std::vector<common::v1::EventType>& types) const {
  return events_.ReadLatest(state.job_id(), state.last_job_seq(), types, count);
}

absl::StatusOr<v1::JobSnapshot> JobViews::Snapshot(
    const internal::JobState& state, const CurveQuery& curve, int recent_events,
    const v1::EventQuery& query) {
  v1::JobSnapshot snapshot;
  *snapshot.mutable_progress() = Progress(state);
  ASSIGN_OR_RETURN(*snapshot.mutable_stages(), Stages(state));
  *snapshot.mutable_current_metrics() = Metrics(state);
  ASSIGN_OR_RETURN(*snapshot.mutable_loss_curve(), Curve(curve));
  snapshot.set_job_seq(state.last_job_seq());
  if (recent_events > 0) {
    std::vector<common::v1::EventType> types;
    for (int t : query.types()) {
      types.push_back(static_cast<common::v1::EventType>(t));
    }
    ASSIGN_OR_RETURN(std::vector<v1::Event> recent,
                     RecentEvents(state, recent_events, types));
    for (v1::Event& e : recent) *snapshot.add_recent_events() = std::move(e);
  }
  return snapshot;
}

}  // namespace trainyard::metrics
