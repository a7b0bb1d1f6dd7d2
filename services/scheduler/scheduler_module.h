// Copyright 2026 Trainyard authors.
//
// queue-scheduler assembled: store, scheduler, notifier, progress source and
// gRPC service, registered with a ServiceHost. main.cc and the in-process
// service tests build it the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/notify/notify_flags.h"
#include "common/server/run_service.h"
#include "services/scheduler/app/progress_source.h"

namespace trainyard::scheduler {

struct SchedulerConfig {
  // metrics' gRPC address for running jobs' progress, one per metrics shard
  // (comma-separated, shard i at i; common/shard); empty: estimates use
  // run-time estimates only (LOW confidence).
  std::string metrics_address;
  // File with the bearer token the scheduler presents to metrics.
  std::string service_token_file;
  // Where queue notifications go (--notify_webhook_url,
  // --notifications_file).
  notify::SinkFlags notify;
  // Promotion requests go here (every manager and admin reads it).
  std::string approvals_webhook_url;
  // Reconcile frees a slot job-control does not hold after this (suite time).
  absl::Duration reconcile_grace = absl::Minutes(10);
  // Estimates are recomputed (and progress refreshed) this often, in suite
  // time; 0 = never (tests call Tick).
  absl::Duration estimate_interval = absl::Seconds(30);
  // Tests: the progress source to use instead of metrics (not owned).
  ProgressSource* progress_override = nullptr;
};

void AddSchedulerFlags(config::FlagSet& flags, SchedulerConfig* config);

std::vector<std::string> SchedulerColumnFamilies();

// The module's handle for tests: the periodic work, run now.
class SchedulerModule : public server::ServiceModule {
 public:
  virtual void Tick() = 0;
  // Waits until queued notifications are delivered (tests).
  virtual void FlushNotifications() = 0;
};

// Builds the service and registers it with ctx.host. kInvalidArgument naming
// the flag when a file cannot be read.
absl::StatusOr<std::unique_ptr<SchedulerModule>> BuildScheduler(
    server::ServiceContext& ctx, const SchedulerConfig& config);

}  // namespace trainyard::scheduler
