// Copyright 2026 Trainyard authors.
#include "services/jobs/views/dashboard.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/lifecycle.h"

namespace trainyard::jobs {
namespace {

// Where the answers meet; shared with the callbacks, which may outlive the
// wait (a late answer lands here and is dropped).
struct Meeting {
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  std::vector<DashboardParts> parts ABSL_GUARDED_BY(mu);
  std::vector<bool> overview_done ABSL_GUARDED_BY(mu);
  std::vector<bool> cost_done ABSL_GUARDED_BY(mu);
};

// NOT_FOUND means the service has no data for the job yet (a queued job
// reported nothing): an empty part, not a missing one.
template <typename T>
bool Unavailable(const absl::StatusOr<T>& part) {
  return !part.ok() && !absl::IsNotFound(part.status());
}

// std::hash of std::string is stable across runs of one build (libstdc++'s
// murmur), so etags survive restarts.
std::string Digest(const std::string& text) {
  return absl::StrFormat("%016x", std::hash<std::string>()(text));
}

}  // namespace

std::vector<DashboardParts> FetchDashboardParts(
    DashboardSources& sources,
    const std::vector<metrics::v1::GetJobOverviewRequest>& overview_requests,
    bool fetch_cost, absl::Time deadline) {
  const size_t n = overview_requests.size();
  auto meeting = std::make_shared<Meeting>();
  {
    absl::MutexLock lock(&meeting->mu);
    meeting->pending = static_cast<int>(fetch_cost ? 2 * n : n);
    meeting->parts.resize(n);
    meeting->overview_done.assign(n, false);
    meeting->cost_done.assign(n, !fetch_cost);
  }
  for (size_t i = 0; i < n; ++i) {
    sources.Overview(
        overview_requests[i], deadline,
        [meeting, i](absl::StatusOr<metrics::v1::GetJobOverviewResponse> r) {
          absl::MutexLock lock(&meeting->mu);
          meeting->parts[i].overview = std::move(r);
          meeting->overview_done[i] = true;
          --meeting->pending;
        });
    if (fetch_cost) {
      sources.Cost(
          overview_requests[i].job_id(), deadline,
          [meeting, i](absl::StatusOr<cost::v1::GetJobCostResponse> r) {
            absl::MutexLock lock(&meeting->mu);
            meeting->parts[i].cost = std::move(r);
            meeting->cost_done[i] = true;
            --meeting->pending;
          });
    }
  }
  absl::MutexLock lock(&meeting->mu);
  auto done = [&meeting]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(meeting->mu) {
    return meeting->pending == 0;
  };
  meeting->mu.AwaitWithDeadline(absl::Condition(&done), deadline);
  // Whatever has not answered by now is late.
  const absl::Status late =
      absl::DeadlineExceededError("no answer within the dashboard deadline");
  std::vector<DashboardParts> parts(n);
  for (size_t i = 0; i < n; ++i) {
    parts[i].overview =
        meeting->overview_done[i] ? meeting->parts[i].overview : late;
    parts[i].cost = meeting->cost_done[i] ? meeting->parts[i].cost : late;
  }
  return parts;
}

common::v1::CostTracker TrackerFromSummary(const v1::Job& job) {
  common::v1::CostTracker t;
  const common::v1::CostSummary& s = job.cost();
  t.set_job_id(job.job_id());
  *t.mutable_estimate() = s.estimate();
  *t.mutable_spend() = s.spend();
  *t.mutable_projected_final() = s.projected_final();
  t.set_level(s.level());
  t.set_over_estimate(s.over_estimate());
  t.set_final(s.final());
  const int64_t low = s.estimate().low().micros();
  const int64_t high = s.estimate().high().micros();
  if (low > 0) t.set_percent_of_estimate(100.0 * s.spend().micros() / low);
  if (high > 0) {
    t.set_percent_of_high_estimate(100.0 * s.spend().micros() / high);
  }
  t.set_pricing(job.spec().config().pricing());
  t.set_gpu_type(job.spec().config().gpu_type());
  t.set_gpu_count(job.spec().config().gpu_count());
  *t.mutable_as_of() = s.as_of();
  return t;
}

std::string OverviewEtagOf(const std::string& dashboard_etag) {
  const size_t dot = dashboard_etag.find('.');
  return dot == std::string::npos ? "" : dashboard_etag.substr(dot + 1);
}

v1::GetJobDashboardResponse AssembleDashboard(const v1::Job& job,
                                              const DashboardParts& parts,
                                              const std::string& if_none_match,
                                              const std::string& options_digest,
                                              absl::Time now) {
  v1::GetJobDashboardResponse out;
  const bool live = !IsTerminal(job.state());
  const bool metrics_down = Unavailable(parts.overview);
  const bool cost_down = Unavailable(parts.cost);

  // The etag: a digest of everything but the metrics part, then metrics'
  // own etag (so a repeat can ask metrics for not_modified too).
  std::string overview_etag;
  if (parts.overview.ok()) {
    overview_etag = parts.overview->not_modified()
                        ? OverviewEtagOf(if_none_match)
                        : parts.overview->etag();
  }
  common::v1::CostTracker tracker;
  if (parts.cost.ok()) {
    tracker = parts.cost->cost();
  } else if (cost_down) {
    tracker = TrackerFromSummary(job);
  }
  common::v1::CostTracker hashed = tracker;
  hashed.clear_as_of();
  const std::string rest =
      absl::StrCat(job.etag(), "|", job.progress().SerializeAsString(), "|",
                   job.cost().spend().micros(), "|", hashed.SerializeAsString(),
                   "|", metrics_down, cost_down, live, "|", options_digest);
  out.set_etag(absl::StrCat(Digest(rest), ".",
                            metrics_down ? "unavailable" : overview_etag));
  out.set_live(live);
  if (live) *out.mutable_poll_interval() = ToProto(absl::Seconds(60));
  if (!if_none_match.empty() && if_none_match == out.etag()) {
    out.set_not_modified(true);
    return out;
  }

  *out.mutable_job() = job;
  if (parts.overview.ok()) {
    *out.mutable_progress() = parts.overview->progress();
    *out.mutable_stages() = parts.overview->stages();
    *out.mutable_current_metrics() = parts.overview->current_metrics();
    *out.mutable_loss_curve() = parts.overview->loss_curve();
    *out.mutable_recent_events() = parts.overview->recent_events();
  } else {
    // Last known progress: the job's copy.
    common::v1::Progress* p = out.mutable_progress();
    const common::v1::ProgressSummary& s = job.progress();
    p->set_job_id(job.job_id());
    p->set_step(s.step());
    p->set_total_steps(s.total_steps() > 0 ? s.total_steps()
                                           : job.spec().config().total_steps());
    p->set_percent(s.percent());
    p->set_epoch(s.epoch());
    p->set_total_epochs(s.total_epochs());
    p->set_stage(s.stage());
    p->set_job_state(job.state());
    *p->mutable_estimated_remaining() = s.estimated_remaining();
    p->set_stalled(s.stalled());
    p->set_final(!live);
    *p->mutable_as_of() = s.as_of();
  }
  if (parts.cost.ok() || cost_down) *out.mutable_cost() = tracker;
  if (metrics_down) out.add_unavailable_parts(v1::DASHBOARD_PART_METRICS);
  if (cost_down) out.add_unavailable_parts(v1::DASHBOARD_PART_COST);
  *out.mutable_as_of() = ToProto(now);
  return out;
}

}  // namespace trainyard::jobs
