// Copyright 2026 Trainyard authors.
//
// metrics-ingest assembled: stores, ingest path, gRPC service and webhook
// route, registered with a ServiceHost. main.cc and the in-process service
// tests build it the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/run_service.h"
#include "common/shard/shard.h"
#include "services/metrics/domain/job_tracker.h"

namespace trainyard::metrics {

struct MetricsConfig {
  // Base64 master key file that job secrets derive from; empty: webhooks
  // answer 503.
  std::string master_key_file;
  // Trends, warnings and stall detection (R-DASH-05, R-X-07); their defaults
  // are TrackerOptions' and StallOptions' own.
  TrackerOptions tracker;
  // SubscribeJob: a subscriber further behind than this many events is told
  // it fell behind (and resumes from its token).
  int64_t subscriber_max_lag_events = 100000;
  // How often (wall time) jobs are checked for stalls; 0 turns it off.
  absl::Duration stall_check_interval = absl::Seconds(5);
  // Bound on the per-job state held in memory, all jobs together: a quarter
  // for job states, a quarter for event indexes, half for metric series
  // (each a JobCache; least recently used jobs are dropped and reloaded from
  // RocksDB on their next use).
  int64_t job_cache_bytes = int64_t{256} << 20;
  // Which shard of the deployment this process is (--shard=i/N): calls and
  // webhooks about another shard's jobs are refused (common/shard/shard.h).
  shard::ShardIdentity shard;
};

// Declares the service's own settings, bound to `config`.
void AddMetricsFlags(config::FlagSet& flags, MetricsConfig* config);

// The column families the service's RocksDB needs.
std::vector<std::string> MetricsColumnFamilies();

// Builds the service and registers it with ctx.host. kInvalidArgument naming
// --webhook_master_key_file when the key cannot be read.
absl::StatusOr<std::unique_ptr<server::ServiceModule>> BuildMetrics(
    server::ServiceContext& ctx, const MetricsConfig& config);

}  // namespace trainyard::metrics
