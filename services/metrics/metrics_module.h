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

namespace trainyard::metrics {

struct MetricsConfig {
  // Base64 master key file that job secrets derive from; empty: webhooks
  // answer 503.
  std::string master_key_file;
  double low_utilization_threshold = 0.5;
  double unchanged_percent = 1.0;
  // R-X-07: silence (suite time) after which an active job is flagged
  // (NO_HEARTBEAT); METRICS silence while training (METRIC_SILENCE); and
  // slowdown against the job's own baseline (SPEED_DROP). StallOptions.
  absl::Duration stall_timeout = absl::Minutes(5);
  absl::Duration min_metric_silence = absl::Minutes(10);
  double speed_drop_factor = 3;
  // SubscribeJob: a subscriber further behind than this many events is told
  // it fell behind (and resumes from its token).
  int64_t subscriber_max_lag_events = 100000;
  // How often (wall time) jobs are checked for stalls; 0 turns it off.
  absl::Duration stall_check_interval = absl::Seconds(5);
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
