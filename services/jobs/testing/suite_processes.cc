// Copyright 2026 Trainyard authors.
#include "services/jobs/testing/suite_processes.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"

namespace trainyard::jobs::testing {

using trainyard::testing::BinaryDir;
using trainyard::testing::SharedFiles;

absl::StatusOr<std::unique_ptr<SuiteProcesses>> SuiteProcesses::Start(
    SuiteOptions options) {
  if (BinaryDir().empty()) {
    return absl::FailedPreconditionError("TRAINYARD_BINARY_DIR is not set");
  }
  std::unique_ptr<SuiteProcesses> suite(new SuiteProcesses(std::move(options)));
  RETURN_IF_ERROR(suite->StartAll());
  return suite;
}

SuiteProcesses::~SuiteProcesses() {
  // jobs first: nothing calls it, and it calls everything else.
  jobs_.reset();
  cost_.reset();
  scheduler_.reset();
  metrics_.clear();
  gpusim_.reset();
}

absl::Status SuiteProcesses::StartAll() {
  const SharedFiles files(dir_);
  const std::string& key = files.master_key_file;
  const std::string& tokens = files.tokens_file;
  const std::string& service_token = files.service_token_file;
  RealClock wall;
  origin_ = absl::FromUnixSeconds(absl::ToUnixSeconds(wall.Now()));
  const std::vector<std::string> clock = {
      absl::StrCat("--time_scale=", options_.time_scale),
      absl::StrCat("--time_origin=", absl::ToUnixSeconds(origin_))};
  auto flags = [&](std::vector<std::string> extra) {
    std::vector<std::string> f = clock;
    f.push_back("--tokens_file=" + tokens);
    f.insert(f.end(), extra.begin(), extra.end());
    return f;
  };

  std::vector<std::string> gpusim_flags = clock;
  gpusim_flags.insert(gpusim_flags.end(), options_.gpusim_flags.begin(),
                      options_.gpusim_flags.end());
  ASSIGN_OR_RETURN(GpusimProcess gpusim, GpusimProcess::Start(gpusim_flags));
  gpusim_ = std::make_unique<GpusimProcess>(std::move(gpusim));

  const std::string logs = dir_.path();
  std::vector<std::string> metrics_grpc, metrics_admin;
  const int shards = options_.metrics_shards;
  for (int i = 0; i < shards; ++i) {
    std::vector<std::string> f = {"--webhook_master_key_file=" + key};
    if (shards > 1) f.push_back(absl::StrCat("--shard=", i, "/", shards));
    f.insert(f.end(), options_.metrics_flags.begin(),
             options_.metrics_flags.end());
    metrics_.push_back(std::make_unique<ServiceProcess>(
        shards > 1 ? absl::StrCat("metrics-", i) : "metrics",
        dir_.Sub(shards > 1 ? absl::StrCat("metrics-", i, "-data")
                            : "metrics-data"),
        logs, flags(f), "metrics"));
    RETURN_IF_ERROR(metrics_.back()->Start());
    metrics_grpc.push_back(metrics_.back()->GrpcAddress());
    metrics_admin.push_back(metrics_.back()->AdminUrl());
  }
  const std::vector<std::string> peer = {
      "--service_token_file=" + service_token,
      "--metrics_address=" + absl::StrJoin(metrics_grpc, ",")};
  std::vector<std::string> scheduler_flags = flags(peer);
  scheduler_flags.push_back("--notifications_file=" +
                            dir_.Sub("scheduler-notifications.jsonl"));
  scheduler_ = std::make_unique<ServiceProcess>(
      "scheduler", dir_.Sub("scheduler-data"), logs, scheduler_flags);
  RETURN_IF_ERROR(scheduler_->Start());
  cost_ = std::make_unique<ServiceProcess>("cost", dir_.Sub("cost-data"), logs,
                                           flags(peer));
  RETURN_IF_ERROR(cost_->Start());
  std::vector<std::string> jobs_flags = flags(peer);
  for (const std::string& f :
       {"--scheduler_address=" + scheduler_->GrpcAddress(),
        "--cost_address=" + cost_->GrpcAddress(),
        "--provider_base_url=" + gpusim_->base_url(),
        "--webhook_base_url=" + absl::StrJoin(metrics_admin, ","),
        "--webhook_master_key_file=" + key}) {
    jobs_flags.push_back(f);
  }
  jobs_flags.insert(jobs_flags.end(), options_.jobs_flags.begin(),
                    options_.jobs_flags.end());
  jobs_ = std::make_unique<ServiceProcess>("jobs", dir_.Sub("jobs-data"), logs,
                                           jobs_flags);
  return jobs_->Start();
}

std::string SuiteProcesses::Logs() const {
  std::string out =
      absl::StrCat("--- gpusim\n", gpusim_ ? gpusim_->Log() : "", "\n");
  for (const auto& m : metrics_) absl::StrAppend(&out, m->Log(), "\n");
  for (const ServiceProcess* p : {scheduler_.get(), cost_.get(), jobs_.get()}) {
    if (p != nullptr) absl::StrAppend(&out, p->Log(), "\n");
  }
  return out;
}

}  // namespace trainyard::jobs::testing
