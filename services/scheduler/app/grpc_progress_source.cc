// Copyright 2026 Trainyard authors.
#include "services/scheduler/app/grpc_progress_source.h"

#include <vector>

namespace trainyard::scheduler {

GrpcProgressSource::GrpcProgressSource(const shard::ShardChannels& metrics,
                                       std::string token,
                                       const Clock& wall_clock,
                                       absl::Duration deadline)
    : stubs_(metrics),
      wall_clock_(wall_clock),
      token_(std::move(token)),
      deadline_(deadline) {}

absl::flat_hash_map<std::string, common::v1::Progress>
GrpcProgressSource::Fetch(const std::vector<std::string>& job_ids) {
  absl::flat_hash_map<std::string, common::v1::Progress> out;
  std::vector<bool> unreachable(stubs_.size(), false);
  for (const std::string& id : job_ids) {
    const int shard = stubs_.ShardOf(id);
    if (unreachable[shard]) continue;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(wall_clock_.Now() + deadline_));
    if (!token_.empty()) ctx.AddMetadata("authorization", "Bearer " + token_);
    metrics::v1::GetProgressRequest req;
    req.set_job_id(id);
    metrics::v1::GetProgressResponse resp;
    grpc::Status s = stubs_.at(shard).GetProgress(&ctx, req, &resp);
    if (s.ok()) {
      out[id] = resp.progress();
    } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
               s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      // The shard is unreachable: do not wait out a deadline per job.
      unreachable[shard] = true;
    }
  }
  return out;
}

}  // namespace trainyard::scheduler
