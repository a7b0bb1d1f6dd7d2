// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/jobs/views/dashboard.h
// -----------------------------------------------------------------------------
//
// The one-call dashboard (R-DASH-07..09) and the per-job parts of CompareJobs:
// metrics' GetJobOverview and cost's GetJobCost fetched in parallel with one
// deadline; a part that fails or is late is reported unavailable and the rest
// is returned, with the job's own copies of progress and cost standing in.
//
// DashboardSources is the seam to the two services (gRPC in
// grpc/dashboard_sources.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/cost/v1/cost.pb.h"
#include "trainyard/jobs/v1/jobs.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::jobs {

// Asynchronous calls to metrics and cost. `done` runs exactly once, on any
// thread, with the answer or the callee's status (DEADLINE_EXCEEDED past
// `deadline`, wall time). Thread-safe.
class DashboardSources {
 public:
  using OverviewDone =
      std::function<void(absl::StatusOr<metrics::v1::GetJobOverviewResponse>)>;
  using CostDone =
      std::function<void(absl::StatusOr<cost::v1::GetJobCostResponse>)>;
  using CurveDone =
      std::function<void(absl::StatusOr<metrics::v1::GetLossCurveResponse>)>;

  virtual ~DashboardSources() = default;
  virtual void Overview(const metrics::v1::GetJobOverviewRequest& request,
                        absl::Time deadline, OverviewDone done) = 0;
  virtual void Cost(const std::string& job_id, absl::Time deadline,
                    CostDone done) = 0;
  // Metrics' GetLossCurve (the loss-curve image, R-DASH-08).
  virtual void LossCurve(const metrics::v1::GetLossCurveRequest& request,
                         absl::Time deadline, CurveDone done) = 0;
};

struct DashboardParts {
  absl::StatusOr<metrics::v1::GetJobOverviewResponse> overview;
  absl::StatusOr<cost::v1::GetJobCostResponse> cost;
};

// Calls both sources for every request at once and waits for all answers
// until `deadline` (wall time); a late answer is DEADLINE_EXCEEDED.
// `fetch_cost` false skips cost (then left unknown). One result per request.
std::vector<DashboardParts> FetchDashboardParts(
    DashboardSources& sources,
    const std::vector<metrics::v1::GetJobOverviewRequest>& overview_requests,
    bool fetch_cost, absl::Time deadline);

// The response for `job` from the fetched parts at suite time `now`.
// `if_none_match` is the request's; when it matches, the response is
// not_modified with only etag, live and poll_interval set. A part whose
// fetch failed (other than NOT_FOUND: no data yet) is listed in
// unavailable_parts; the job's copied summaries stand in.
v1::GetJobDashboardResponse AssembleDashboard(const v1::Job& job,
                                              const DashboardParts& parts,
                                              const std::string& if_none_match,
                                              const std::string& options_digest,
                                              absl::Time now);

// The metrics etag inside a dashboard etag (to pass on as if_none_match);
// "" when `etag` is not one of ours.
std::string OverviewEtagOf(const std::string& dashboard_etag);

// The job's copied cost figures as a tracker (cost unavailable).
common::v1::CostTracker TrackerFromSummary(const v1::Job& job);

}  // namespace trainyard::jobs
