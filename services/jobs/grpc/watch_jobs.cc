// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/job_views_service.h"

namespace trainyard::jobs {

grpc::ServerWriteReactor<v1::WatchJobsResponse>* JobViewsService::WatchJobs(
    grpc::CallbackServerContext* ctx, const v1::WatchJobsRequest* req) {
  return v1::JobService::CallbackService::WatchJobs(ctx, req);
}

grpc::ServerUnaryReactor* JobViewsService::ExportLossCurveImage(
    grpc::CallbackServerContext* ctx,
    const v1::ExportLossCurveImageRequest* req,
    v1::ExportLossCurveImageResponse* resp) {
  return v1::JobService::CallbackService::ExportLossCurveImage(ctx, req, resp);
}

}  // namespace trainyard::jobs
