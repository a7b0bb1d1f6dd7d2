// Copyright 2026 Trainyard authors.
//
// DashboardSources over gRPC: metrics' GetJobOverview and GetLossCurve and
// cost's GetJobCost as asynchronous callback calls (the dashboard waits for
// both at once), each with the service token and the caller's deadline;
// metrics calls go to the job's shard (common/shard).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/shard/shard_channels.h"
#include "services/jobs/views/dashboard.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::jobs {

class GrpcDashboardSources final : public DashboardSources {
 public:
  // `service_token` is sent as "Bearer <token>" when non-empty.
  GrpcDashboardSources(const shard::ShardChannels& metrics,
                       std::shared_ptr<grpc::Channel> cost,
                       std::string service_token);

  void Overview(const metrics::v1::GetJobOverviewRequest& request,
                absl::Time deadline, OverviewDone done) override;
  void Cost(const std::string& job_id, absl::Time deadline,
            CostDone done) override;
  void LossCurve(const metrics::v1::GetLossCurveRequest& request,
                 absl::Time deadline, CurveDone done) override;

 private:
  shard::ShardStubs<metrics::v1::MetricsService> metrics_;
  std::unique_ptr<cost::v1::CostService::Stub> cost_;
  const std::string token_;
};

}  // namespace trainyard::jobs
