// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/metrics_progress.h"

#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"

namespace trainyard::cost {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("metrics: ", s.error_message()));
}

}  // namespace

ProgressView ViewOf(const common::v1::Progress& p) {
  ProgressView v{.step = p.step(), .total_steps = p.total_steps()};
  if (p.has_seconds_per_step()) v.seconds_per_step = p.seconds_per_step();
  v.active_elapsed = FromProto(p.active_elapsed());
  return v;
}

MetricsProgressSource::MetricsProgressSource(
    const shard::ShardChannels& metrics, std::string token,
    absl::Duration timeout)
    : stubs_(metrics), token_(std::move(token)), timeout_(timeout) {}

void MetricsProgressSource::Prepare(grpc::ClientContext& ctx) const {
  // RPC deadlines run in wall time (orchestration.md).
  ctx.set_deadline(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(timeout_));
  if (!token_.empty()) {
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  }
}

absl::StatusOr<ProgressView> MetricsProgressSource::Progress(
    const std::string& job_id) {
  grpc::ClientContext ctx;
  Prepare(ctx);
  metrics::v1::GetProgressRequest req;
  req.set_job_id(job_id);
  metrics::v1::GetProgressResponse resp;
  grpc::Status s = stubs_.For(job_id).GetProgress(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return ViewOf(resp.progress());
}

std::vector<absl::StatusOr<ProgressView>> MetricsProgressSource::ProgressMany(
    const std::vector<std::string>& job_ids) {
  std::vector<absl::StatusOr<ProgressView>> out(
      job_ids.size(), absl::NotFoundError("metrics: no progress for the job"));
  const std::vector<std::vector<size_t>> by_shard = stubs_.Split(job_ids);
  for (int shard = 0; shard < stubs_.size(); ++shard) {
    const std::vector<size_t>& positions = by_shard[shard];
    if (positions.empty()) continue;
    grpc::ClientContext ctx;
    Prepare(ctx);
    metrics::v1::BatchGetProgressRequest req;
    for (size_t i : positions) req.add_job_ids(job_ids[i]);
    metrics::v1::BatchGetProgressResponse resp;
    grpc::Status s = stubs_.at(shard).BatchGetProgress(&ctx, req, &resp);
    if (!s.ok()) {
      // One unknown job fails its shard's whole batch: every job of it then
      // projects from its estimate (and says why).
      for (size_t i : positions) out[i] = FromGrpc(s);
      continue;
    }
    absl::flat_hash_map<std::string, const common::v1::Progress*> by_id;
    for (const common::v1::Progress& p : resp.progress()) {
      by_id[p.job_id()] = &p;
    }
    for (size_t i : positions) {
      auto it = by_id.find(job_ids[i]);
      if (it != by_id.end()) out[i] = ViewOf(*it->second);
    }
  }
  return out;
}

}  // namespace trainyard::cost
