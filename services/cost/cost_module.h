// Copyright 2026 Trainyard authors.
//
// cost assembled: store, book, progress source, gRPC service and alert
// streams, registered with a ServiceHost. main.cc and the in-process service
// tests build it the same way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/server/run_service.h"
#include "services/cost/app/cost_book.h"
#include "services/cost/app/cost_metrics.h"
#include "services/cost/grpc/alert_watch.h"
#include "services/cost/grpc/cost_service.h"

namespace trainyard::cost {

struct CostConfig {
  // MetricsService address (host:port) for progress, one per metrics shard
  // (comma-separated, shard i at i; common/shard); empty: projections use
  // the estimate.
  std::string metrics_address;
  // File with the bearer token cost sends to metrics (first word of the
  // first line); empty: no token (open mode).
  std::string service_token_file;
  // Wall-time deadline of each progress read.
  absl::Duration metrics_timeout = absl::Milliseconds(300);
  // How often (wall time) open meters are checked against budgets and
  // estimates; 0 turns it off (tests call Tick).
  absl::Duration budget_check_interval = absl::Seconds(5);
  // WatchBudgetAlerts heartbeat when idle.
  absl::Duration alert_heartbeat = absl::Seconds(15);
};

void AddCostFlags(config::FlagSet& flags, CostConfig* config);

std::vector<std::string> CostColumnFamilies();

class CostModule final : public server::ServiceModule {
 public:
  // References must outlive the module.
  CostModule(server::ServiceContext& ctx, const CostConfig& config,
             std::unique_ptr<ProgressSource> progress);

  // Loads the book (the periodic budget check starts when the host serves).
  absl::Status Warmup() override;
  // One budget check (the periodic work).
  void Tick();

  CostBook& book() { return book_; }
  grpc::Service& service_for_registration() { return service_; }

 private:
  const CostConfig config_;
  Logger& logger_;
  CostMetrics metrics_;
  CostStore store_;
  std::unique_ptr<ProgressSource> progress_;
  CostBook book_;
  AlertHub hub_;
  std::unique_ptr<server::Rpc> rpc_;
  CostServiceImpl service_;
};

// Builds the module and registers it with ctx.host. `progress` overrides the
// source the config names (tests); kInvalidArgument naming
// --service_token_file when it cannot be read.
absl::StatusOr<std::unique_ptr<CostModule>> BuildCost(
    server::ServiceContext& ctx, const CostConfig& config,
    std::unique_ptr<ProgressSource> progress = nullptr);

}  // namespace trainyard::cost
