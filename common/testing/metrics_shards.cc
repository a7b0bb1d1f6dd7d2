// Copyright 2026 Trainyard authors.
#include "common/testing/metrics_shards.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/shard/shard.h"
#include "common/testing/test_server.h"
#include "common/time/proto_time.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::testing {

metrics::v1::IngestEvent MetricsReport(const std::string& job, int seq,
                                       int step, double loss) {
  metrics::v1::IngestEvent e;
  e.set_job_id(job);
  e.set_event_id(absl::StrCat("evt_1_", seq));
  e.set_type(common::v1::EVENT_TYPE_METRICS);
  e.set_attempt(1);
  e.set_attempt_seq(seq);
  *e.mutable_occurred_time() =
      ToProto(absl::FromUnixSeconds(1764385800) + absl::Seconds(seq));
  e.mutable_metrics()->set_step(step);
  e.mutable_metrics()->set_total_steps(2000);
  e.mutable_metrics()->set_train_loss(loss);
  return e;
}

absl::StatusOr<std::unique_ptr<MetricsShards>> MetricsShards::Start(
    const TempDir& dir, int count) {
  const SharedFiles files(dir);
  std::unique_ptr<MetricsShards> shards(new MetricsShards());
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> flags = {"--tokens_file=" + files.tokens_file,
                                      "--stall_check_interval=0s"};
    if (count > 1) flags.push_back(absl::StrCat("--shard=", i, "/", count));
    shards->shards_.push_back(std::make_unique<ServiceProcess>(
        absl::StrCat("metrics-", i), dir.Sub(absl::StrCat("metrics-", i)),
        dir.path(), std::move(flags), "metrics"));
    absl::Status started = shards->shards_.back()->Start();
    if (!started.ok()) return started;
  }
  return shards;
}

shard::ShardChannels MetricsShards::Channels() const {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const auto& s : shards_) {
    channels.push_back(grpc::CreateChannel(s->GrpcAddress(),
                                           grpc::InsecureChannelCredentials()));
  }
  return shard::ShardChannels(std::move(channels));
}

absl::Status MetricsShards::ReportStep(const std::string& job, int seq,
                                       int step) {
  metrics::v1::IngestEventsRequest req;
  *req.add_events() = MetricsReport(job, seq, step);
  const ServiceProcess& target =
      *shards_[shard::ShardOf(job, static_cast<int>(shards_.size()))];
  auto stub = metrics::v1::MetricsService::NewStub(grpc::CreateChannel(
      target.GrpcAddress(), grpc::InsecureChannelCredentials()));
  metrics::v1::IngestEventsResponse resp;
  grpc::ClientContext ctx;
  TestServer::Authorize(ctx, auth::Role::kService);
  grpc::Status s = stub->IngestEvents(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("IngestEvents: ", s.error_message(), "\n", Log()));
  }
  for (const metrics::v1::IngestResult& r : resp.results()) {
    if (r.outcome() != metrics::v1::INGEST_OUTCOME_ACCEPTED) {
      return absl::InternalError(absl::StrCat("not accepted: ", r.reason()));
    }
  }
  return absl::OkStatus();
}

std::string MetricsShards::Log() const {
  std::string out;
  for (const auto& s : shards_) absl::StrAppend(&out, s->Log());
  return out;
}

}  // namespace trainyard::testing
