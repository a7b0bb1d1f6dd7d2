// Copyright 2026 Trainyard authors.
//
// ProgressSource over trainyard.metrics.v1.MetricsService (GetProgress,
// BatchGetProgress), with a wall-time deadline per call so a slow or absent
// metrics never holds a cost request for long. Each job's call goes to its
// metrics shard (common/shard); a batch is one call per shard.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/shard/shard_channels.h"
#include "services/cost/app/progress_source.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::cost {

class MetricsProgressSource final : public ProgressSource {
 public:
  // `token` is sent as a bearer token (empty: none, for open mode).
  MetricsProgressSource(const shard::ShardChannels& metrics, std::string token,
                        absl::Duration timeout);

  absl::StatusOr<ProgressView> Progress(const std::string& job_id) override;
  std::vector<absl::StatusOr<ProgressView>> ProgressMany(
      const std::vector<std::string>& job_ids) override;

 private:
  void Prepare(grpc::ClientContext& ctx) const;

  shard::ShardStubs<metrics::v1::MetricsService> stubs_;
  const std::string token_;
  const absl::Duration timeout_;
};

// The view cost uses of metrics' Progress.
ProgressView ViewOf(const common::v1::Progress& progress);

}  // namespace trainyard::cost
