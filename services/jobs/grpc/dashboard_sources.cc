// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/dashboard_sources.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/grpc_status.h"

namespace trainyard::jobs {
namespace {

// One call in flight: owned by its completion callback.
template <typename Req, typename Resp>
struct Pending {
  grpc::ClientContext ctx;
  Req request;
  Resp response;
};

template <typename Req, typename Resp>
std::shared_ptr<Pending<Req, Resp>> Start(const std::string& token,
                                          absl::Time deadline) {
  auto call = std::make_shared<Pending<Req, Resp>>();
  if (!token.empty()) {
    call->ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  call->ctx.set_deadline(absl::ToChronoTime(deadline));
  return call;
}

// The completion of `call`: its answer or its status, to `done`.
template <typename Call, typename Done>
auto Complete(std::shared_ptr<Call> call, Done done) {
  return [call, done = std::move(done)](grpc::Status s) {
    if (s.ok()) {
      done(std::move(call->response));
    } else {
      done(FromGrpcStatus(s));
    }
  };
}

}  // namespace

GrpcDashboardSources::GrpcDashboardSources(const shard::ShardChannels& metrics,
                                           std::shared_ptr<grpc::Channel> cost,
                                           std::string service_token)
    : metrics_(metrics),
      cost_(cost::v1::CostService::NewStub(cost)),
      token_(std::move(service_token)) {}

void GrpcDashboardSources::Overview(
    const metrics::v1::GetJobOverviewRequest& request, absl::Time deadline,
    OverviewDone done) {
  auto call = Start<metrics::v1::GetJobOverviewRequest,
                    metrics::v1::GetJobOverviewResponse>(token_, deadline);
  call->request = request;
  metrics_.For(request.job_id())
      .async()
      ->GetJobOverview(&call->ctx, &call->request, &call->response,
                       Complete(call, std::move(done)));
}

void GrpcDashboardSources::Cost(const std::string& job_id, absl::Time deadline,
                                CostDone done) {
  auto call = Start<cost::v1::GetJobCostRequest, cost::v1::GetJobCostResponse>(
      token_, deadline);
  call->request.set_job_id(job_id);
  cost_->async()->GetJobCost(&call->ctx, &call->request, &call->response,
                             Complete(call, std::move(done)));
}

void GrpcDashboardSources::LossCurve(
    const metrics::v1::GetLossCurveRequest& request, absl::Time deadline,
    CurveDone done) {
  auto call = Start<metrics::v1::GetLossCurveRequest,
                    metrics::v1::GetLossCurveResponse>(token_, deadline);
  call->request = request;
  metrics_.For(request.job_id())
      .async()
      ->GetLossCurve(&call->ctx, &call->request, &call->response,
                     Complete(call, std::move(done)));
}

}  // namespace trainyard::jobs
