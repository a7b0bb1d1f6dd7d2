// Copyright 2026 Trainyard authors.
//
// An in-process service on ephemeral ports with a temp RocksDB, a fake suite
// clock and one bearer token per role, for handler and runtime tests:
//
//   TestServer server({"jobs"});
//   JobServiceImpl impl(server.Context());          // register before Start
//   ASSERT_OK(server.host().AddService(&impl, "trainyard.jobs.v1.JobService"));
//   ASSERT_OK(server.Start());
//   auto stub = JobService::NewStub(server.Channel());
//   grpc::ClientContext ctx;
//   server.Authorize(ctx, auth::Role::kEngineer);
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/auth/authenticator.h"
#include "common/logging/logger.h"
#include "common/server/run_service.h"
#include "common/server/service_host.h"
#include "common/storage/db.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"

namespace trainyard::testing {

class TestServer {
 public:
  // `tweak` may change the config (limits, timeouts) before the host exists.
  explicit TestServer(
      std::vector<std::string> column_families = {},
      std::function<void(server::ServerConfig&)> tweak = nullptr);
  ~TestServer();

  server::ServiceHost& host() { return *host_; }
  storage::Db& db() { return *db_; }
  FakeClock& clock() { return clock_; }
  Logger& logger() { return logger_; }
  const server::ServerConfig& config() const { return config_; }
  const auth::Authenticator& authenticator() const { return *authenticator_; }
  const TempDir& dir() const { return dir_; }
  // What a service's build step would get.
  server::ServiceContext Context();

  absl::Status Start();
  void Shutdown() { host_->Shutdown(); }

  std::shared_ptr<grpc::Channel> Channel(
      const grpc::ChannelArguments& args = {});
  // Sets `authorization: Bearer <token of role>`; users are named after roles.
  static void Authorize(grpc::ClientContext& ctx, auth::Role role);
  static std::string TokenFor(auth::Role role);
  // A tokens file (--tokens_file) with TokenFor of every role, users named
  // after roles.
  static std::string TokensText();
  std::string AdminUrl() const;
  std::vector<std::string> LogLines() const;

 private:
  TempDir dir_;
  server::ServerConfig config_;
  FakeClock clock_;
  RealClock wall_clock_;
  mutable absl::Mutex log_mu_;
  std::vector<std::string> log_lines_;
  Logger logger_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<server::ServiceHost> host_;
};

}  // namespace trainyard::testing
