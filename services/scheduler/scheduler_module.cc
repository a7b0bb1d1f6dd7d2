// Copyright 2026 Trainyard authors.
#include "services/scheduler/scheduler_module.h"

#include "common/config/token_file.h"
#include "common/notify/notify_flags.h"
#include "common/status/status_macros.h"
#include "services/scheduler/app/grpc_progress_source.h"
#include "services/scheduler/app/scheduler.h"
#include "services/scheduler/grpc/access.h"
#include "services/scheduler/grpc/scheduler_service.h"

namespace trainyard::scheduler {
namespace {

// The wall-clock period of `suite` under the suite's time scale.
absl::Duration WallPeriod(const Clock& clock, absl::Duration suite) {
  if (const auto* scaled = dynamic_cast<const ScaledClock*>(&clock)) {
    return scaled->ToWall(suite);
  }
  return suite;
}

class Module final : public SchedulerModule {
 public:
  Module(server::ServiceContext& ctx, const SchedulerConfig& config,
         std::unique_ptr<ProgressSource> progress)
      : wall_period_(WallPeriod(ctx.clock, config.estimate_interval)),
        store_(ctx.db),
        metrics_(ctx.host.registry()),
        notifier_(notify::MakeNotifier(config.notify,
                                       !config.approvals_webhook_url.empty())),
        progress_(std::move(progress)),
        scheduler_(store_, ctx.clock,
                   config.progress_override != nullptr
                       ? config.progress_override
                       : progress_.get(),
                   notifier_.get(), &metrics_,
                   {config.reconcile_grace, config.approvals_webhook_url}),
        rpc_(ctx.host.MakeRpc(SchedulerServiceAccess())),
        service_(*rpc_, scheduler_, ctx.clock,
                 {scheduler_, streams_, rpc_->executor(), ctx.host.timer(),
                  ctx.wall_clock, ctx.clock}) {
    ctx.host.OnDrain([this] { streams_.CloseAll(); });
    // Estimates and progress every estimate_interval of suite time.
    if (wall_period_ > absl::ZeroDuration()) {
      ctx.host.Every(wall_period_, [this] { Tick(); });
    }
  }

  // Loads the queue and assigns free slots.
  absl::Status Warmup() override { return scheduler_.Load(); }

  void Tick() override { scheduler_.Tick(); }
  void FlushNotifications() override { notifier_->Flush(); }

  absl::Status Register(server::ServiceHost& host) {
    return host.AddService(&service_,
                           "trainyard.scheduler.v1.SchedulerService");
  }

 private:
  const absl::Duration wall_period_;
  SchedulerStore store_;
  SchedulerMetrics metrics_;
  std::unique_ptr<notify::Notifier> notifier_;
  std::unique_ptr<ProgressSource> progress_;
  Scheduler scheduler_;
  StreamSet streams_;
  std::unique_ptr<server::Rpc> rpc_;
  SchedulerServiceImpl service_;
};

}  // namespace

std::vector<std::string> SchedulerColumnFamilies() {
  return SchedulerStore::ColumnFamilies();
}

void AddSchedulerFlags(config::FlagSet& flags, SchedulerConfig* config) {
  flags.AddString("metrics_address",
                  "metrics' gRPC address (host:port) for running jobs' "
                  "progress, one per metrics shard, comma-separated; empty: "
                  "run-time estimates only",
                  &config->metrics_address);
  flags.AddString("service_token_file",
                  "file with the bearer token presented to metrics",
                  &config->service_token_file);
  notify::AddSinkFlags(flags, &config->notify);
  flags.AddString("approvals_webhook_url",
                  "incoming webhook that promotion requests are posted to",
                  &config->approvals_webhook_url);
  flags.AddDuration("reconcile_grace",
                    "Reconcile frees a slot job-control does not hold only "
                    "after this long (suite time)",
                    &config->reconcile_grace);
  flags.AddDuration("estimate_interval",
                    "how often (suite time) estimates are recomputed and "
                    "progress refreshed; 0s = never",
                    &config->estimate_interval);
}

absl::StatusOr<std::unique_ptr<SchedulerModule>> BuildScheduler(
    server::ServiceContext& ctx, const SchedulerConfig& config) {
  std::unique_ptr<ProgressSource> progress;
  if (config.metrics_address.empty()) {
    ctx.logger.Warning("progress.off", {{"why", "no --metrics_address"}});
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
    progress = std::make_unique<GrpcProgressSource>(metrics, std::move(token),
                                                    ctx.wall_clock);
  }
  auto module = std::make_unique<Module>(ctx, config, std::move(progress));
  RETURN_IF_ERROR(module->Register(ctx.host));
  return module;
}

}  // namespace trainyard::scheduler
