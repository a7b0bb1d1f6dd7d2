// Copyright 2026 Trainyard authors.
#include "services/scheduler/app/grpc_progress_source.h"

namespace trainyard::scheduler {

GrpcProgressSource::GrpcProgressSource(std::shared_ptr<grpc::Channel> channel,
                                       std::string token,
                                       const Clock& wall_clock,
                                       absl::Duration deadline)
    : stub_(metrics::v1::MetricsService::NewStub(std::move(channel))),
      wall_clock_(wall_clock),
      token_(std::move(token)),
      deadline_(deadline) {}

absl::flat_hash_map<std::string, common::v1::Progress>
GrpcProgressSource::Fetch(const std::vector<std::string>& job_ids) {
  absl::flat_hash_map<std::string, common::v1::Progress> out;
  for (const std::string& id : job_ids) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(wall_clock_.Now() + deadline_));
    if (!token_.empty()) ctx.AddMetadata("authorization", "Bearer " + token_);
    metrics::v1::GetProgressRequest req;
    req.set_job_id(id);
    metrics::v1::GetProgressResponse resp;
    grpc::Status s = stub_->GetProgress(&ctx, req, &resp);
    if (s.ok()) {
      out[id] = resp.progress();
    } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
               s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      break;  // unreachable: do not wait out a deadline per job
    }
  }
  return out;
}

}  // namespace trainyard::scheduler
