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
    std::shared_ptr<grpc::Channel> channel, std::string token,
    absl::Duration timeout)
    : stub_(metrics::v1::MetricsService::NewStub(std::move(channel))),
      token_(std::move(token)),
      timeout_(timeout) {}

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
  grpc::Status s = stub_->GetProgress(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return ViewOf(resp.progress());
}

std::vector<absl::StatusOr<ProgressView>> MetricsProgressSource::ProgressMany(
    const std::vector<std::string>& job_ids) {
  grpc::ClientContext ctx;
  Prepare(ctx);
  metrics::v1::BatchGetProgressRequest req;
  for (const std::string& id : job_ids) req.add_job_ids(id);
  metrics::v1::BatchGetProgressResponse resp;
  grpc::Status s = stub_->BatchGetProgress(&ctx, req, &resp);
  std::vector<absl::StatusOr<ProgressView>> out;
  out.reserve(job_ids.size());
  if (!s.ok()) {
    // One unknown job fails the whole batch: every job then projects from
    // its estimate (and says why).
    for (size_t i = 0; i < job_ids.size(); ++i) out.push_back(FromGrpc(s));
    return out;
  }
  absl::flat_hash_map<std::string, const common::v1::Progress*> by_id;
  for (const common::v1::Progress& p : resp.progress()) by_id[p.job_id()] = &p;
  for (const std::string& id : job_ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      out.push_back(absl::NotFoundError("metrics: no progress for the job"));
    } else {
      out.push_back(ViewOf(*it->second));
    }
  }
  return out;
}

}  // namespace trainyard::cost
