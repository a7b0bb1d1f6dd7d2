// Copyright 2026 Trainyard authors.
//
// The whole suite as real processes for job-control's process-level tests:
// metrics-ingest, queue-scheduler, cost, gpusim and trainyard-jobs, each on
// ephemeral ports, one suite clock (same --time_scale and --time_origin),
// bearer tokens of TestServer::TokenFor (so TestServer::Authorize works
// against them) and one webhook master key. trainyard-jobs can be killed
// (SIGKILL) and restarted on its data directory at any moment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"

namespace trainyard::jobs::testing {

// One service binary ("metrics", "scheduler", "cost", "jobs") with its data
// directory, restartable. `name` names its logs and ports file; `binary`
// is the service when it differs ("metrics" for "metrics-1").
class ServiceProcess {
 public:
  ServiceProcess(std::string name, std::string data_dir, std::string log_dir,
                 std::vector<std::string> flags, std::string binary = "");

  // Starts the binary and waits (bounded) for its ports file.
  absl::Status Start();
  // SIGKILL and reap.
  void Kill();
  // "127.0.0.1:<grpc port>", "http://127.0.0.1:<admin port>".
  std::string GrpcAddress() const;
  std::string AdminUrl() const;
  // The logs of every run so far (the current one last).
  std::string Log() const;
  bool running() const { return process_ != nullptr; }

 private:
  const std::string name_;
  const std::string binary_;
  const std::string data_dir_;
  const std::string log_dir_;
  const std::vector<std::string> flags_;
  std::unique_ptr<trainyard::testing::Subprocess> process_;
  int runs_ = 0;
  int grpc_port_ = 0;
  int admin_port_ = 0;
};

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
  const std::string& gpusim_url() const { return gpusim_url_; }
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
  std::unique_ptr<trainyard::testing::Subprocess> gpusim_;
  std::string gpusim_url_;
  std::vector<std::unique_ptr<ServiceProcess>> metrics_;
  std::unique_ptr<ServiceProcess> scheduler_;
  std::unique_ptr<ServiceProcess> cost_;
  std::unique_ptr<ServiceProcess> jobs_;
};

}  // namespace trainyard::jobs::testing
