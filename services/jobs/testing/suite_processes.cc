// Copyright 2026 Trainyard authors.
#include "services/jobs/testing/suite_processes.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "common/time/clock.h"

namespace trainyard::jobs::testing {
namespace {

constexpr char kMasterKey[] =
    "dHJhaW55YXJkLXRlc3QtbWFzdGVyLWtleS0wMTIzNDU2Nzg5YWJjZGVm";

std::string BinaryDir() {
  const char* dir = std::getenv("TRAINYARD_BINARY_DIR");
  return dir != nullptr ? dir : "";
}

// Reads whitespace-separated ports from `path`; waits for it, bounded, and
// gives up early when the process exited.
absl::Status WaitForPorts(const std::string& path,
                          trainyard::testing::Subprocess& process, int* first,
                          int* second) {
  for (int i = 0; i < 6000; ++i) {
    std::ifstream in(path);
    if (second != nullptr ? static_cast<bool>(in >> *first >> *second)
                          : static_cast<bool>(in >> *first)) {
      return absl::OkStatus();
    }
    if (process.Wait(absl::ZeroDuration()).ok()) break;  // it exited
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return absl::UnavailableError(
      absl::StrCat("no ports file ", path, "; log:\n", process.Log()));
}

}  // namespace

ServiceProcess::ServiceProcess(std::string name, std::string data_dir,
                               std::string log_dir,
                               std::vector<std::string> flags,
                               std::string binary)
    : name_(std::move(name)),
      binary_(binary.empty() ? name_ : std::move(binary)),
      data_dir_(std::move(data_dir)),
      log_dir_(std::move(log_dir)),
      flags_(std::move(flags)) {}

absl::Status ServiceProcess::Start() {
  const std::string ports = absl::StrCat(log_dir_, "/", name_, ".ports");
  std::remove(ports.c_str());
  std::vector<std::string> argv = {
      absl::StrCat(BinaryDir(), "/services/", binary_, "/trainyard-", binary_),
      "--grpc_address=127.0.0.1:0",
      "--admin_address=127.0.0.1:0",
      "--data_dir=" + data_dir_,
      "--ports_file=" + ports,
      "--drain_timeout=2s"};
  argv.insert(argv.end(), flags_.begin(), flags_.end());
  ++runs_;
  ASSIGN_OR_RETURN(
      trainyard::testing::Subprocess p,
      trainyard::testing::Subprocess::Start(
          argv, absl::StrCat(log_dir_, "/", name_, ".", runs_, ".log")));
  process_ = std::make_unique<trainyard::testing::Subprocess>(std::move(p));
  return WaitForPorts(ports, *process_, &grpc_port_, &admin_port_);
}

void ServiceProcess::Kill() { process_.reset(); }  // SIGKILL and reap

std::string ServiceProcess::GrpcAddress() const {
  return absl::StrCat("127.0.0.1:", grpc_port_);
}

std::string ServiceProcess::AdminUrl() const {
  return absl::StrCat("http://127.0.0.1:", admin_port_);
}

std::string ServiceProcess::Log() const {
  std::string out;
  for (int run = 1; run <= runs_; ++run) {
    std::ifstream in(absl::StrCat(log_dir_, "/", name_, ".", run, ".log"));
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    absl::StrAppend(&out, "--- ", name_, " run ", run, "\n", text);
  }
  return out;
}

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
  const std::string key = dir_.Sub("master.key");
  std::ofstream(key) << kMasterKey << "\n";
  const std::string tokens = dir_.Sub("tokens");
  {
    std::ofstream out(tokens);
    for (const char* role :
         {"viewer", "engineer", "manager", "admin", "service"}) {
      out << "test-token-" << role << " " << role << " " << role << "\n";
    }
  }
  const std::string service_token = dir_.Sub("service.token");
  std::ofstream(service_token) << "test-token-service\n";
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

  // gpusim.
  {
    const std::string ports = dir_.Sub("gpusim.ports");
    std::vector<std::string> argv = {
        absl::StrCat(BinaryDir(), "/tools/gpusim/gpusim"),
        "--address=127.0.0.1:0", "--ports_file=" + ports, "--seed=7"};
    argv.insert(argv.end(), clock.begin(), clock.end());
    argv.insert(argv.end(), options_.gpusim_flags.begin(),
                options_.gpusim_flags.end());
    ASSIGN_OR_RETURN(
        trainyard::testing::Subprocess p,
        trainyard::testing::Subprocess::Start(argv, dir_.Sub("gpusim.log")));
    gpusim_ = std::make_unique<trainyard::testing::Subprocess>(std::move(p));
    int port = 0;
    RETURN_IF_ERROR(WaitForPorts(ports, *gpusim_, &port, nullptr));
    gpusim_url_ = absl::StrCat("http://127.0.0.1:", port);
  }

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
        "--provider_base_url=" + gpusim_url_,
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
