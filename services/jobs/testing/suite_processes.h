// Copyright 2026 Trainyard authors.
//
// The whole suite as real processes for job-control's process-level tests:
// metrics-ingest, queue-scheduler, cost, gpusim and trainyard-jobs, each on
// ephemeral ports (trainyard::testing::ServiceProcess), one suite clock (same
// --time_scale and --time_origin) and one SharedFiles (tokens of
// TestServer::TokenFor, so TestServer::Authorize works against them; one
// webhook master key). trainyard-jobs can be killed (SIGKILL) and restarted on
// its data directory at any moment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/testing/service_process.h"
#include "common/testing/temp_dir.h"
#include "services/jobs/testing/gpusim_process.h"

namespace trainyard::jobs::testing {

using trainyard::testing::ServiceProcess;

struct SuiteOptions {
  // Simulated seconds per wall second, for every process.
  double time_scale = 100;
  // Extra flags of gpusim (e.g. "--provision_delay=60s"), jobs and metrics
  // (every shard).
  std::vector<std::string> gpusim_flags;
  std::vector<std::string> jobs_flags;
  std::vector<std::string> metrics_flags;
  // metrics-ingest processes (--shard=i/N each); scheduler, cost and jobs
  // get them all, in shard order, in --metrics_address (and jobs their
  // admin URLs in --webhook_base_url).
  int metrics_shards = 1;
};

class SuiteProcesses {
 public:
  // Starts gpusim, metrics (each shard), scheduler, cost, then jobs.
  static absl::StatusOr<std::unique_ptr<SuiteProcesses>> Start(
      SuiteOptions options);
  ~SuiteProcesses();

  ServiceProcess& jobs() { return *jobs_; }
  // Shard 0 of metrics-ingest (the only one by default), shard i.
  ServiceProcess& metrics(int shard = 0) { return *metrics_[shard]; }
  int metrics_shards() const { return static_cast<int>(metrics_.size()); }
  ServiceProcess& scheduler() { return *scheduler_; }
  ServiceProcess& cost() { return *cost_; }
  // gpusim's REST base URL.
  const std::string& gpusim_url() const { return gpusim_->base_url(); }
  // The shared suite clock's origin and scale.
  absl::Time origin() const { return origin_; }
  double time_scale() const { return options_.time_scale; }
  // Every process's log, for failure messages.
  std::string Logs() const;

 private:
  explicit SuiteProcesses(SuiteOptions options) : options_(options) {}
  absl::Status StartAll();

  const SuiteOptions options_;
  trainyard::testing::TempDir dir_;
  absl::Time origin_;
  std::unique_ptr<GpusimProcess> gpusim_;
  std::vector<std::unique_ptr<ServiceProcess>> metrics_;
  std::unique_ptr<ServiceProcess> scheduler_;
  std::unique_ptr<ServiceProcess> cost_;
  std::unique_ptr<ServiceProcess> jobs_;
};

}  // namespace trainyard::jobs::testing
