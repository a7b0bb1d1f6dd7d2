// Copyright 2026 Trainyard authors.
//
// GetJobDashboard (R-DASH-07, R-DASH-09) and CompareJobs (R-LIST-05): the
// job from the store, the rest from metrics and cost in parallel
// (views/dashboard.h).
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/views/compare.h"

namespace trainyard::jobs {
namespace {

using server::CallInfo;

constexpr int kDashboardDefaultPoints = 1000;
constexpr int kDashboardMaxPoints = 10000;
constexpr int kDashboardDefaultEvents = 10;
constexpr int kDashboardMaxEvents = 100;
constexpr int kCompareDefaultPoints = 500;
constexpr int kCompareMaxPoints = 2000;

absl::StatusOr<metrics::v1::CurveOptions> Curve(
    const google::protobuf::RepeatedPtrField<std::string>& series,
    int32_t max_points, int64_t last_steps, bool include_rolled_back,
    std::string_view points_field, int def, int max) {
  if (max_points < 0) {
    return InvalidFieldError(points_field, "must not be negative");
  }
  if (last_steps < 0) {
    return InvalidFieldError("curve_last_steps", "must not be negative");
  }
  metrics::v1::CurveOptions c;
  if (series.empty()) {
    c.add_series("train_loss");
    c.add_series("val_loss");
  } else {
    *c.mutable_series() = series;
  }
  c.set_max_points(max_points == 0 ? def : std::min(max_points, max));
  c.set_last_steps(last_steps);
  c.set_include_rolled_back(include_rolled_back);
  return c;
}

}  // namespace

grpc::ServerUnaryReactor* JobViewsService::GetJobDashboard(
    grpc::CallbackServerContext* ctx, const v1::GetJobDashboardRequest* req,
    v1::GetJobDashboardResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "GetJobDashboard", req, resp,
      [this](const CallInfo& call, const v1::GetJobDashboardRequest& r,
             v1::GetJobDashboardResponse& out) -> absl::Status {
        ASSIGN_OR_RETURN(
            metrics::v1::CurveOptions curve,
            Curve(r.curve_series(), r.curve_max_points(), r.curve_last_steps(),
                  r.include_rolled_back(), "curve_max_points",
                  kDashboardDefaultPoints, kDashboardMaxPoints));
        if (r.recent_events() < 0) {
          return InvalidFieldError("recent_events", "must not be negative");
        }
        ASSIGN_OR_RETURN(v1::Job job, VisibleJob(r.job_id(), "job_id"));
        metrics::v1::GetJobOverviewRequest overview;
        overview.set_job_id(r.job_id());
        *overview.mutable_curve() = curve;
        overview.set_if_none_match(OverviewEtagOf(r.if_none_match()));
        overview.set_recent_events(
            r.recent_events() == 0
                ? kDashboardDefaultEvents
                : std::min(r.recent_events(), kDashboardMaxEvents));
        // Leave the caller time to receive a partial answer.
        const absl::Time deadline =
            std::min(deps_.wall_clock.Now() + deps_.fetch_timeout,
                     call.deadline - absl::Milliseconds(100));
        DashboardParts parts = std::move(
            FetchDashboardParts(deps_.sources, {overview}, true, deadline)[0]);
        const std::string digest = curve.SerializeAsString();
        out = AssembleDashboard(job, parts, r.if_none_match(), digest,
                                deps_.engine.clock().Now());
        if (!out.not_modified() && parts.overview.ok() &&
            parts.overview->not_modified()) {
          // Metrics is unchanged but the rest changed: fetch the data.
          overview.clear_if_none_match();
          parts.overview = std::move(
              FetchDashboardParts(deps_.sources, {overview}, false, deadline)[0]
                  .overview);
          out = AssembleDashboard(job, parts, r.if_none_match(), digest,
                                  deps_.engine.clock().Now());
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobViewsService::CompareJobs(
    grpc::CallbackServerContext* ctx, const v1::CompareJobsRequest* req,
    v1::CompareJobsResponse* resp) {
  return deps_.rpc.Unary(
      ctx, "CompareJobs", req, resp,
      [this](const CallInfo& call, const v1::CompareJobsRequest& r,
             v1::CompareJobsResponse& out) -> absl::Status {
        if (r.job_ids_size() < 2 || r.job_ids_size() > 4) {
          return InvalidFieldError(
              "job_ids", absl::StrCat("compare takes 2 to 4 jobs, got ",
                                      r.job_ids_size()));
        }
        ASSIGN_OR_RETURN(metrics::v1::CurveOptions curve,
                         Curve(r.curve_series(), r.curve_max_points(), 0, false,
                               "curve_max_points", kCompareDefaultPoints,
                               kCompareMaxPoints));
        std::vector<v1::Job> jobs;
        std::vector<metrics::v1::GetJobOverviewRequest> requests;
        absl::flat_hash_set<std::string> seen;
        for (int i = 0; i < r.job_ids_size(); ++i) {
          const std::string field = absl::StrCat("job_ids[", i, "]");
          if (!seen.insert(r.job_ids(i)).second) {
            return InvalidFieldError(
                field, absl::StrCat("names job ", r.job_ids(i), " twice"));
          }
          ASSIGN_OR_RETURN(v1::Job job, VisibleJob(r.job_ids(i), field));
          jobs.push_back(std::move(job));
          metrics::v1::GetJobOverviewRequest o;
          o.set_job_id(r.job_ids(i));
          *o.mutable_curve() = curve;
          requests.push_back(std::move(o));
        }
        const absl::Time deadline =
            std::min(deps_.wall_clock.Now() + deps_.fetch_timeout,
                     call.deadline - absl::Milliseconds(100));
        std::vector<DashboardParts> parts =
            FetchDashboardParts(deps_.sources, requests, true, deadline);
        std::vector<const common::v1::TrainingConfig*> configs;
        for (size_t i = 0; i < jobs.size(); ++i) {
          *out.add_jobs() = CompareEntry(jobs[i], parts[i]);
          configs.push_back(&jobs[i].spec().config());
        }
        for (std::string& path : DifferingFields(configs, "config")) {
          out.add_differing_fields(std::move(path));
        }
        return absl::OkStatus();
      });
}

}  // namespace trainyard::jobs
