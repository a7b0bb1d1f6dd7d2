// Copyright 2026 Trainyard authors.
//
// job-control assembled: store, engine, effect runner, stream followers,
// provider and service clients, gRPC service. main.cc and the in-process
// tests build it the same way.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/notify/notify_flags.h"
#include "common/server/run_service.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/app/engine.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/provider/provider.h"

namespace trainyard::jobs {

struct JobsConfig {
  // The GPU provider (RunPod REST v2; gpusim locally).
  std::string provider_base_url = "http://127.0.0.1:7120";
  // File whose first line is the provider API key; empty: no key (gpusim on
  // loopback).
  std::string provider_api_key_file;
  std::string trainer_image = "trainyard/lora-trainer:1";
  // Where pods send webhooks: metrics-ingest's admin base URL; with metrics
  // shards a comma-separated list in the order of metrics_address (a pod
  // gets its job's shard's URL).
  std::string webhook_base_url = "http://127.0.0.1:7113";
  // The master key each pod's webhook secret derives from (required).
  std::string webhook_master_key_file;
  // File whose first token is job-control's bearer token for the other
  // services (a tokens-file line "<token> <user> service" works); empty: none.
  std::string service_token_file;
  std::string scheduler_address = "127.0.0.1:7102";
  // One host:port, or one per metrics shard, comma-separated (shard i at
  // i; common/shard/shard.h).
  std::string metrics_address = "127.0.0.1:7103";
  std::string cost_address = "127.0.0.1:7104";
  // Suite time between polls of each active pod.
  absl::Duration pod_poll_interval = absl::Seconds(10);
  // Deadline of each call to another service or the provider (wall time).
  absl::Duration call_timeout = absl::Seconds(10);
  // Wall time between refreshes of the jobs' progress and cost copies.
  absl::Duration copy_refresh_interval = absl::Seconds(2);
  // Where notifications to people go (--notify_webhook_url,
  // --notifications_file).
  notify::SinkFlags notify;
  LifecycleOptions lifecycle;
};

void AddJobsFlags(config::FlagSet& flags, JobsConfig* config);

std::vector<std::string> JobsColumnFamilies();

// Test seams: when set, these replace the gRPC clients and the RunPod client.
struct JobsOverrides {
  Provider* provider = nullptr;
  SchedulerClient* scheduler = nullptr;
  CostClient* cost = nullptr;
  MetricsClient* metrics = nullptr;
  // Do not follow the three streams (tests feed inputs themselves).
  bool no_streams = false;
  // Do not start the effect runner's thread nor the copies' refresh (tests
  // run them by hand).
  bool no_runner_thread = false;
  // Called once with the engine (a test's fake scheduler assigns slots
  // through it).
  std::function<void(Engine&)> on_engine;
  // Adjusts the list/watch handlers' dependencies (a test's fake wall clock
  // and timer for WatchJobs' intervals and heartbeats, its limits).
  std::function<JobViewsDeps(const JobViewsDeps&)> views;
};

// Builds the service and registers it with ctx.host. kInvalidArgument naming
// the flag when a file cannot be read.
absl::StatusOr<std::unique_ptr<server::ServiceModule>> BuildJobs(
    server::ServiceContext& ctx, const JobsConfig& config,
    JobsOverrides overrides = {});

}  // namespace trainyard::jobs
