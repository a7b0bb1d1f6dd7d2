// Copyright 2026 Trainyard authors.
//
// Real trainyard-metrics processes as the shards of one deployment
// (--shard=i/N when N > 1), for the tests of metrics' clients (cost's and
// the scheduler's progress sources): fed through the public IngestEvents,
// read through whatever client the test checks.
//
//   TempDir dir;
//   ASSERT_OK_AND_ASSIGN(auto shards, MetricsShards::Start(dir, 2));
//   ASSERT_OK(shards->ReportStep("job-1", /*seq=*/1, /*step=*/100));
//   GrpcProgressSource source(shards->Channels(), ...);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/shard/shard_channels.h"
#include "common/testing/service_process.h"
#include "common/testing/temp_dir.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::testing {

// A container's METRICS report of attempt 1 for `job`: number `seq` (one
// second apart, in a fixed past), at `step` of 2,000 with `loss`.
metrics::v1::IngestEvent MetricsReport(const std::string& job, int seq,
                                       int step, double loss = 0.5);

class MetricsShards {
 public:
  // Starts `count` metrics processes (data and logs under `dir`), each
  // taking the test tokens (TestServer::TokenFor) and no stall checks.
  static absl::StatusOr<std::unique_ptr<MetricsShards>> Start(
      const TempDir& dir, int count);

  // One channel per shard, in shard order.
  shard::ShardChannels Channels() const;

  // A container's METRICS report of attempt 1 for `job`, sent to the job's
  // shard: number `seq` (one second apart, in the past), at `step` of 2,000.
  absl::Status ReportStep(const std::string& job, int seq, int step);

  // The logs of every shard.
  std::string Log() const;

 private:
  MetricsShards() = default;
  std::vector<std::unique_ptr<ServiceProcess>> shards_;
};

}  // namespace trainyard::testing
