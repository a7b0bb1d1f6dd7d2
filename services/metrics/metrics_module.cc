// Copyright 2026 Trainyard authors.
#include "services/metrics/metrics_module.h"

#include "absl/strings/str_cat.h"
#include "common/http/message.h"
#include "common/status/status_macros.h"
#include "common/webhook/master_key.h"
#include "services/metrics/grpc/access.h"
#include "services/metrics/grpc/metrics_service.h"
#include "services/metrics/ingest/webhook_handler.h"

namespace trainyard::metrics {
namespace {

// The part of --job_cache_bytes one of the per-job caches gets.
size_t CacheShare(const MetricsConfig& config, int divisor) {
  return static_cast<size_t>(config.job_cache_bytes / divisor);
}

class MetricsModule final : public server::ServiceModule {
 public:
  MetricsModule(server::ServiceContext& ctx, const MetricsConfig& config,
                std::string master_key, std::unique_ptr<EventFeed> feed)
      : config_(config),
        logger_(ctx.logger),
        ingest_metrics_(ctx.host.registry()),
        options_(config.tracker),
        events_(ctx.db, {.index_memory_bytes = CacheShare(config, 4)}),
        series_(ctx.db, {.cache_bytes = CacheShare(config, 2)}),
        states_(ctx.db),
        jobs_(events_, states_, options_, CacheShare(config, 4)),
        feed_(std::move(feed)),
        ingestor_(ctx.db, events_, series_, states_, jobs_, *feed_, ctx.clock,
                  ctx.wall_clock, options_, &ingest_metrics_),
        views_(jobs_, events_, series_, states_, ctx.clock, options_),
        hub_(ctx.host.registry()),
        rpc_(ctx.host.MakeRpc(MetricsServiceAccess())),
        service_(*rpc_, ingestor_, events_, series_, *feed_, views_, hub_,
                 ctx.host.timer(), ctx.wall_clock,
                 {.max_lag_events =
                      static_cast<uint64_t>(config.subscriber_max_lag_events)},
                 config.shard) {
    ingestor_.SetPublishListener(
        [this](const std::string& job_id) { hub_.Published(job_id); });
    ctx.host.OnDrain([this] { hub_.CloseAll(); });
    server::ServiceHost& host = ctx.host;
    webhooks_ = std::make_unique<WebhookHandler>(
        std::move(master_key), ingestor_, ctx.wall_clock,
        [&host] { return host.phase(); }, &ingest_metrics_,
        WebhookOptions{.shard = config.shard});
  }

  // Reads the stall watch (no job state is loaded: jobs load on first use).
  absl::Status Warmup() override { return jobs_.LoadWatch(); }

  absl::Status Register(server::ServiceHost& host) {
    RETURN_IF_ERROR(
        host.AddService(&service_, "trainyard.metrics.v1.MetricsService"));
    if (config_.stall_check_interval > absl::ZeroDuration()) {
      host.Every(config_.stall_check_interval, [this] {
        absl::StatusOr<int> raised = ingestor_.CheckStalls();
        if (!raised.ok()) {
          logger_.Warning("stall.check_failed",
                          {{"error", raised.status().ToString()}});
        }
      });
    }
    WebhookHandler* webhooks = webhooks_.get();
    host.admin().Handle(http::Method::kPost, kWebhookRoute,
                        [webhooks](const http::HttpRequest& request) {
                          return webhooks->Handle(request);
                        });
    return absl::OkStatus();
  }

 private:
  const MetricsConfig config_;
  Logger& logger_;
  IngestMetrics ingest_metrics_;
  TrackerOptions options_;
  EventStore events_;
  SeriesStore series_;
  JobStateStore states_;
  JobStates jobs_;
  std::unique_ptr<EventFeed> feed_;
  Ingestor ingestor_;
  JobViews views_;
  LiveHub hub_;
  std::unique_ptr<server::Rpc> rpc_;
  MetricsServiceImpl service_;
  std::unique_ptr<WebhookHandler> webhooks_;
};

}  // namespace

std::vector<std::string> MetricsColumnFamilies() {
  std::vector<std::string> cfs;
  for (auto part :
       {EventStore::ColumnFamilies(), SeriesStore::ColumnFamilies(),
        JobStateStore::ColumnFamilies(), EventFeed::ColumnFamilies()}) {
    cfs.insert(cfs.end(), part.begin(), part.end());
  }
  return cfs;
}

void AddMetricsFlags(config::FlagSet& flags, MetricsConfig* config) {
  flags.AddString("webhook_master_key_file",
                  "file with the base64 master key that job secrets derive "
                  "from; empty: webhooks answer 503",
                  &config->master_key_file);
  flags
      .AddDouble("low_utilization_threshold",
                 "GPU utilization ratio below which a warning shows",
                 &config->tracker.low_utilization_threshold)
      .Range(0, 1);
  flags
      .AddDouble("trend_unchanged_percent",
                 "a change below this percent is a steady trend",
                 &config->tracker.unchanged_percent)
      .Range(0, 100);
  flags
      .AddInt("subscriber_max_lag_events",
              "SubscribeJob: events a subscriber may fall behind before it "
              "is told to resume from its token",
              &config->subscriber_max_lag_events)
      .Range(1, int64_t{1} << 40);
  flags.AddDuration("stall_timeout",
                    "silence (suite time) after which an active job is "
                    "flagged stalled",
                    &config->tracker.stall.heartbeat_timeout);
  flags.AddDuration("stall_min_metric_silence",
                    "while training, no METRICS for this long (and for 3 "
                    "recent reporting intervals) flags the job stalled",
                    &config->tracker.stall.min_metric_silence);
  flags
      .AddDouble("stall_speed_drop_factor",
                 "recent seconds per step above this many times the job's "
                 "baseline flags the job stalled",
                 &config->tracker.stall.speed_drop_factor)
      .Range(1, 1000);
  flags
      .AddInt("job_cache_bytes",
              "memory for per-job state, all jobs together (job states, "
              "event indexes, metric series); least recently used jobs are "
              "reloaded from disk on their next use",
              &config->job_cache_bytes)
      .Range(int64_t{1} << 20, int64_t{1} << 40);
  flags.AddCustom(
      "shard",
      "i/N: this process is shard i of N metrics-ingest shards (a job's "
      "shard is SHA-256(job_id) mod N); calls and webhooks for other "
      "shards' jobs are refused",
      config->shard.ToString(), [config](std::string_view value) {
        absl::StatusOr<shard::ShardIdentity> id =
            shard::ParseShardIdentity(value);
        if (!id.ok()) return id.status();
        config->shard = *id;
        return absl::OkStatus();
      });
  flags.AddDuration("stall_check_interval",
                    "how often (wall time) to look for stalls; 0s = never",
                    &config->stall_check_interval);
}

absl::StatusOr<std::unique_ptr<server::ServiceModule>> BuildMetrics(
    server::ServiceContext& ctx, const MetricsConfig& config) {
  std::string master_key;
  if (config.master_key_file.empty()) {
    ctx.logger.Warning("webhooks.off",
                       {{"why", "no --webhook_master_key_file"}});
  } else {
    absl::StatusOr<std::string> key =
        webhook::LoadMasterKey(config.master_key_file);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--webhook_master_key_file: ", key.status().message()));
    }
    master_key = *std::move(key);
  }
  if (config.shard.count > 1) {
    ctx.logger.Info("shard", {{"shard", config.shard.ToString()}});
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EventFeed> feed, EventFeed::Open(ctx.db));
  auto module = std::make_unique<MetricsModule>(
      ctx, config, std::move(master_key), std::move(feed));
  RETURN_IF_ERROR(module->Register(ctx.host));
  return module;
}

}  // namespace trainyard::metrics
