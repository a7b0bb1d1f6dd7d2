// Copyright 2026 Trainyard authors.
//
// ProgressSource over trainyard.metrics.v1.MetricsService.GetProgress, one
// call per running job (at most the concurrency limit) to the job's metrics
// shard (common/shard), each with a deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/shard/shard_channels.h"
#include "common/time/clock.h"
#include "services/scheduler/app/progress_source.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::scheduler {

class GrpcProgressSource final : public ProgressSource {
 public:
  // `token`: the bearer token of the scheduler's service principal (may be
  // empty when metrics runs without auth).
  GrpcProgressSource(const shard::ShardChannels& metrics, std::string token,
                     const Clock& wall_clock,
                     absl::Duration deadline = absl::Seconds(2));

  absl::flat_hash_map<std::string, common::v1::Progress> Fetch(
      const std::vector<std::string>& job_ids) override;

 private:
  shard::ShardStubs<metrics::v1::MetricsService> stubs_;
  const Clock& wall_clock_;
  const std::string token_;
  const absl::Duration deadline_;
};

}  // namespace trainyard::scheduler
