// Copyright 2026 Trainyard authors.
#include "services/jobs/jobs_module.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "common/config/token_file.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/webhook/master_key.h"
#include "services/jobs/app/copy_refresher.h"
#include "services/jobs/app/effect_runner.h"
#include "services/jobs/app/engine.h"
#include "services/jobs/app/grpc_clients.h"
#include "services/jobs/app/job_notifier.h"
#include "services/jobs/grpc/access.h"
#include "services/jobs/grpc/dashboard_sources.h"
#include "services/jobs/grpc/job_service.h"
#include "services/jobs/provider/runpod_client.h"
#include "services/jobs/storage/job_store.h"
#include "services/jobs/views/job_index.h"

namespace trainyard::jobs {
namespace {

// The first whitespace-separated word of the first line that is not blank
// or a '#' comment.
std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

class JobsModule final : public server::ServiceModule {
 public:
  JobsModule(server::ServiceContext& ctx, const JobsConfig& config,
             JobsOverrides overrides, std::unique_ptr<JobStore> store,
             std::unique_ptr<JobIndex> index, shard::ShardChannels metrics,
             std::vector<std::string> webhook_urls, std::string master_key,
             std::string provider_key, std::string service_token)
      : config_(config),
        overrides_(overrides),
        logger_(ctx.logger),
        store_(std::move(store)),
        metrics_registry_(ctx.host.registry()),
        engine_(
            ctx.clock, *store_, config.lifecycle, [this] { Wake(); },
            &metrics_registry_),
        call_options_{service_token, config.call_timeout},
        index_(std::move(index)),
        sources_(metrics, Channel(config.cost_address), service_token),
        rpc_(ctx.host.MakeRpc(JobServiceAccess())),
        notify_(notify::MakeNotifier(config.notify)),
        notifier_(*notify_),
        channels_{metrics, Channel(config.scheduler_address),
                  Channel(config.cost_address)} {
    if (overrides.provider == nullptr) {
      RunPodOptions o;
      o.base_url = config.provider_base_url;
      o.api_key = provider_key;
      o.call_timeout = config.call_timeout;
      runpod_ = std::make_unique<RunPodClient>(o);
    }
    if (overrides.scheduler == nullptr) {
      scheduler_ = std::make_unique<GrpcSchedulerClient>(channels_.scheduler,
                                                         call_options_);
    }
    if (overrides.cost == nullptr) {
      cost_ = std::make_unique<GrpcCostClient>(channels_.cost, call_options_);
    }
    if (overrides.metrics == nullptr) {
      metrics_ = std::make_unique<GrpcMetricsClient>(metrics, call_options_);
    }
    CostClient& cost = overrides.cost ? *overrides.cost : *cost_;
    const JobViewsDeps views{*rpc_,    engine_,          *index_,
                             sources_, ctx.host.timer(), ctx.wall_clock};
    service_ = std::make_unique<JobServiceImpl>(
        *rpc_, engine_, cost, SpecDefaults{},
        overrides.views ? overrides.views(views) : views);
    RunnerOptions ro;
    ro.trainer_image = config.trainer_image;
    ro.webhook_base_urls = std::move(webhook_urls);
    ro.webhook_master_key = std::move(master_key);
    ro.pod_poll_interval = config.pod_poll_interval;
    ro.metrics = &metrics_registry_;
    runner_ = std::make_unique<EffectRunner>(
        ctx.wall_clock, engine_,
        overrides.provider ? *overrides.provider : *runpod_,
        overrides.scheduler ? *overrides.scheduler : *scheduler_, cost,
        overrides.metrics ? *overrides.metrics : *metrics_, notifier_, ro);
    followers_ = std::make_unique<StreamFollowers>(engine_, channels_,
                                                   call_options_, ctx.logger);
    // Progress and cost copies (app/copy_refresher.h); no other thread
    // uses the store yet, so the observer can still be added.
    refresher_ = std::make_unique<CopyRefresher>(
        engine_, overrides.metrics ? *overrides.metrics : *metrics_, cost);
    store_->AddObserver([r = refresher_.get()](const internal::JobRecord& rec) {
      r->Observe(rec);
    });
    if (!overrides.no_runner_thread) {
      ctx.host.Every(config.copy_refresh_interval, [this] {
        absl::Status s = refresher_->RefreshOnce();
        if (!s.ok()) {
          logger_.Debug("copies.refresh_failed", {{"error", s.ToString()}});
        }
      });
    }
    if (overrides.on_engine) overrides.on_engine(engine_);
    store_->AddObserver([w = &service_->waiters()](
                            const internal::JobRecord& r) { w->Observe(r); });
    ctx.host.OnDrain([this] {
      service_->CloseWatches();
      service_->waiters().Stop();
      followers_->Stop();
      runner_->Stop();
    });
  }

  ~JobsModule() override {
    followers_->Stop();
    runner_->Stop();
  }

  // Reconcile at start: the runner runs the outbox and polls every pod; the
  // streams resume from their cursors.
  absl::Status Warmup() override {
    if (!overrides_.no_runner_thread) runner_->Start();
    if (!overrides_.no_streams) followers_->Start();
    return absl::OkStatus();
  }

  absl::Status Register(server::ServiceHost& host) {
    return host.AddService(service_.get(), "trainyard.jobs.v1.JobService");
  }

  EffectRunner& runner() { return *runner_; }

 private:
  void Wake() {
    if (runner_) runner_->Wake();
  }

  const JobsConfig config_;
  const JobsOverrides overrides_;
  Logger& logger_;
  std::unique_ptr<JobStore> store_;
  JobsMetrics metrics_registry_;
  Engine engine_;
  CallOptions call_options_;
  std::unique_ptr<JobIndex> index_;
  GrpcDashboardSources sources_;
  std::unique_ptr<server::Rpc> rpc_;
  std::unique_ptr<JobServiceImpl> service_;
  std::unique_ptr<notify::Notifier> notify_;
  JobNotifier notifier_;
  StreamFollowers::Channels channels_;
  std::unique_ptr<RunPodClient> runpod_;
  std::unique_ptr<SchedulerClient> scheduler_;
  std::unique_ptr<CostClient> cost_;
  std::unique_ptr<MetricsClient> metrics_;
  std::unique_ptr<EffectRunner> runner_;
  std::unique_ptr<StreamFollowers> followers_;
  std::unique_ptr<CopyRefresher> refresher_;
};

}  // namespace

std::vector<std::string> JobsColumnFamilies() {
  return JobStore::ColumnFamilies();
}

void AddJobsFlags(config::FlagSet& flags, JobsConfig* c) {
  flags.AddString("provider_base_url",
                  "GPU provider REST API (RunPod v2; gpusim locally)",
                  &c->provider_base_url);
  flags.AddString("provider_api_key_file",
                  "file with the provider API key; empty: none",
                  &c->provider_api_key_file);
  flags.AddString("trainer_image", "container image of the training pods",
                  &c->trainer_image);
  flags.AddString("webhook_base_url",
                  "metrics-ingest admin base URL the pods post webhooks to; "
                  "with metrics shards one per shard, comma-separated, in "
                  "the order of --metrics_address",
                  &c->webhook_base_url);
  flags.AddString("webhook_master_key_file",
                  "base64 master key file the pods' webhook secrets derive "
                  "from (required)",
                  &c->webhook_master_key_file);
  flags.AddString("service_token_file",
                  "file whose first token is this service's bearer token for "
                  "scheduler, metrics and cost; empty: none",
                  &c->service_token_file);
  flags.AddString("scheduler_address", "host:port of trainyard-scheduler",
                  &c->scheduler_address);
  flags.AddString("metrics_address",
                  "host:port of trainyard-metrics; with shards one per "
                  "shard, comma-separated, shard i at i",
                  &c->metrics_address);
  flags.AddString("cost_address", "host:port of trainyard-cost",
                  &c->cost_address);
  notify::AddSinkFlags(flags, &c->notify);
  flags.AddDuration("pod_poll_interval",
                    "suite time between polls of each active pod",
                    &c->pod_poll_interval);
  flags.AddDuration("call_timeout",
                    "deadline of each call to another service or the provider",
                    &c->call_timeout);
  flags
      .AddDuration("copy_refresh_interval",
                   "wall time between refreshes of the jobs' progress and "
                   "cost copies from metrics and cost",
                   &c->copy_refresh_interval)
      .Range(0.01, 3600);
  flags.AddDuration("provision_timeout",
                    "no pod after this long: FAILED NO_CAPACITY",
                    &c->lifecycle.provision_timeout);
  flags.AddDuration("start_timeout",
                    "pod running but no container event: FAILED START_TIMEOUT",
                    &c->lifecycle.start_timeout);
  flags.AddDuration("pause_timeout",
                    "pausing without the pod exiting: paused at the last "
                    "checkpoint",
                    &c->lifecycle.pause_timeout);
  flags.AddDuration("stall_fail_after",
                    "stalled with the pod running: FAILED STALL_TIMEOUT",
                    &c->lifecycle.stall_fail_after);
  flags
      .AddInt("max_recoveries", "spot recoveries before PREEMPTED_TOO_OFTEN",
              &c->lifecycle.max_recoveries)
      .Range(0, 100);
}

absl::StatusOr<std::unique_ptr<server::ServiceModule>> BuildJobs(
    server::ServiceContext& ctx, const JobsConfig& config,
    JobsOverrides overrides) {
  if (config.webhook_master_key_file.empty()) {
    return InvalidFieldError("webhook_master_key_file", "required");
  }
  absl::StatusOr<std::string> master =
      webhook::LoadMasterKey(config.webhook_master_key_file);
  if (!master.ok()) {
    return InvalidFieldError("webhook_master_key_file",
                             ToStd(master.status().message()));
  }
  std::string provider_key;
  if (!config.provider_api_key_file.empty()) {
    ASSIGN_OR_RETURN(provider_key,
                     config::ReadFirstToken("provider_api_key_file",
                                            config.provider_api_key_file));
  }
  std::string service_token;
  if (!config.service_token_file.empty()) {
    ASSIGN_OR_RETURN(service_token,
                     config::ReadFirstToken("service_token_file",
                                            config.service_token_file));
  }
  ASSIGN_OR_RETURN(
      shard::ShardChannels metrics,
      shard::ShardChannels::Connect("metrics_address", config.metrics_address));
  ASSIGN_OR_RETURN(
      std::vector<std::string> webhook_urls,
      shard::ParseShardList("webhook_base_url", config.webhook_base_url));
  if (static_cast<int>(webhook_urls.size()) != metrics.size()) {
    return InvalidFieldError(
        "webhook_base_url",
        absl::StrCat(webhook_urls.size(),
                     webhook_urls.size() == 1 ? " URL" : " URLs", " for ",
                     metrics.size(),
                     " metrics shards (--metrics_address): one per shard, "
                     "in the same order"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<JobStore> store, JobStore::Open(ctx.db));
  // The jobs list index, rebuilt from RocksDB and kept current by every write.
  ASSIGN_OR_RETURN(std::unique_ptr<JobIndex> index,
                   JobIndex::Build(*store, absl::Uniform<uint64_t>(
                                               absl::BitGen(), 1, UINT64_MAX)));
  store->AddObserver(
      [i = index.get()](const internal::JobRecord& r) { i->Upsert(r); });
  auto module = std::make_unique<JobsModule>(
      ctx, config, overrides, std::move(store), std::move(index),
      std::move(metrics), std::move(webhook_urls), *std::move(master),
      std::move(provider_key), std::move(service_token));
  RETURN_IF_ERROR(module->Register(ctx.host));
  return module;
}

}  // namespace trainyard::jobs
