// Copyright 2026 Trainyard authors.
//
// The whole suite as real processes for the journeys: gpusim and the four
// services on ephemeral ports, in a temp dir, wired as `make run` wires them
// (tokens file, service token, provider key shared with gpusim, webhook
// master key, one suite clock), at a high time scale; and yardctl run as a
// process with a config file naming them. Journeys drive only public
// surfaces: yardctl, the services' gRPC APIs, and gpusim's REST API (the
// "cloud", where faults are injected as an operator would see them).
//
//   Suite suite;                       // starts everything, waits for ready
//   auto r = suite.Yardctl({"submit", "--name", "x", ..., "--wait"});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/testing/subprocess.h"
#include "common/testing/temp_dir.h"
#include "services/jobs/testing/gpusim_process.h"

namespace trainyard::e2e {

struct SuiteOptions {
  // Suite seconds per wall second. 300: a small job's half hour plays in ~6 s.
  double time_scale = 300;
  // Unix seconds of suite time zero (every process's --time_origin); 0: the
  // second the suite starts in.
  int64_t time_origin = 0;
  // Extra flags per process ("gpusim", "jobs", "metrics", "scheduler",
  // "cost"), e.g. {"gpusim", {"--provision_delay=30m"}}.
  std::map<std::string, std::vector<std::string>> flags;
};

// What a yardctl run printed and returned.
struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Suite {
 public:
  explicit Suite(SuiteOptions options = {});
  ~Suite();

  // Ok once every process is up; otherwise why not (with logs).
  const absl::Status& status() const { return status_; }

  // Runs yardctl with `args`, as `role`'s user (users: "<role>-e2e"; role
  // "manager2" is a second manager), bounded by `timeout` (then exit 124).
  CliResult Yardctl(const std::vector<std::string>& args,
                    const std::string& role = "engineer",
                    absl::Duration timeout = absl::Seconds(120));

  // A gRPC channel to a service ("jobs", "scheduler", "metrics", "cost").
  std::shared_ptr<grpc::Channel> Channel(const std::string& service);
  // Adds `role`'s bearer token to `ctx` (with a 30 s deadline).
  static void Authorize(grpc::ClientContext& ctx, const std::string& role);

  // gpusim's REST API (with its API key): GET/POST on `path`, the body.
  std::string Gpusim(const std::string& method, const std::string& path,
                     const std::string& body = "");

  // SIGKILLs a service and starts it again on the same ports and data.
  absl::Status KillAndRestart(const std::string& service);

  // Every process's log, for failure messages.
  std::string Logs() const;

 private:
  struct Service {
    std::string name;
    std::vector<std::string> argv;  // without the address flags
    std::unique_ptr<testing::Subprocess> process;
    int grpc_port = 0;
    int admin_port = 0;
  };
  absl::Status StartService(Service& s);
  absl::Status Start();

  SuiteOptions options_;
  testing::TempDir dir_;
  std::unique_ptr<jobs::testing::GpusimProcess> gpusim_;
  std::map<std::string, Service> services_;
  absl::Status status_;
};

}  // namespace trainyard::e2e
