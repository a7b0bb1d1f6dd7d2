// Copyright 2026 Trainyard authors.
#include "services/cost/cost_module.h"

#include "common/config/token_file.h"
#include "common/status/status_macros.h"
#include "services/cost/grpc/access.h"
#include "services/cost/grpc/metrics_progress.h"
#include "services/cost/storage/cost_store.h"

namespace trainyard::cost {

std::vector<std::string> CostColumnFamilies() {
  return CostStore::ColumnFamilies();
}

void AddCostFlags(config::FlagSet& flags, CostConfig* config) {
  flags.AddString("metrics_address",
                  "MetricsService host:port for job progress (projections), "
                  "one per metrics shard, comma-separated; empty: "
                  "projections use the estimate",
                  &config->metrics_address);
  flags.AddString("service_token_file",
                  "file whose first word is the bearer token sent to metrics",
                  &config->service_token_file);
  flags.AddDuration("metrics_timeout",
                    "wall-time deadline of each progress read from metrics",
                    &config->metrics_timeout);
  flags.AddDuration("budget_check_interval",
                    "how often (wall time) open meters are checked against "
                    "budgets and estimates; 0s = never",
                    &config->budget_check_interval);
}

CostModule::CostModule(server::ServiceContext& ctx, const CostConfig& config,
                       std::unique_ptr<ProgressSource> progress)
    : config_(config),
      logger_(ctx.logger),
      metrics_(ctx.host.registry()),
      store_(ctx.db),
      progress_(std::move(progress)),
      book_(store_, ctx.clock, *progress_, &metrics_),
      rpc_(ctx.host.MakeRpc(CostServiceAccess())),
      service_(*rpc_, book_, hub_, ctx.host.timer(), ctx.clock, ctx.wall_clock,
               config.alert_heartbeat) {
  book_.SetAlertListener([this] { hub_.WakeAll(); });
  ctx.host.OnDrain([this] { hub_.CloseAll(); });
  if (config.budget_check_interval > absl::ZeroDuration()) {
    ctx.host.Every(config.budget_check_interval, [this] { Tick(); });
  }
}

absl::Status CostModule::Warmup() { return book_.Load(); }

void CostModule::Tick() {
  absl::StatusOr<int> fired = book_.CheckBudgets();
  if (!fired.ok()) {
    logger_.Warning("budget.check_failed",
                    {{"error", fired.status().ToString()}});
  }
}

absl::StatusOr<std::unique_ptr<CostModule>> BuildCost(
    server::ServiceContext& ctx, const CostConfig& config,
    std::unique_ptr<ProgressSource> progress) {
  if (progress == nullptr) {
    if (config.metrics_address.empty()) {
      ctx.logger.Warning("progress.off", {{"why", "no --metrics_address"}});
      progress = std::make_unique<NoProgressSource>();
    } else {
      std::string token;
      if (!config.service_token_file.empty()) {
        ASSIGN_OR_RETURN(token,
                         config::ReadFirstToken("service_token_file",
                                                config.service_token_file));
      }
      ASSIGN_OR_RETURN(shard::ShardChannels metrics,
                       shard::ShardChannels::Connect("metrics_address",
                                                     config.metrics_address));
      progress = std::make_unique<MetricsProgressSource>(
          metrics, std::move(token), config.metrics_timeout);
    }
  }
  auto module = std::make_unique<CostModule>(ctx, config, std::move(progress));
  RETURN_IF_ERROR(ctx.host.AddService(&module->service_for_registration(),
                                      "trainyard.cost.v1.CostService"));
  return module;
}

}  // namespace trainyard::cost
