// Copyright 2026 Trainyard authors.
#include "services/jobs/app/effect_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging/logger.h"
#include "common/shard/shard.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "common/webhook/signature.h"
#include "services/jobs/domain/copies.h"
#include "services/jobs/provider/pod_env.h"

namespace trainyard::jobs {
namespace {

using Phase = PodObservation::Phase;

PodObservation Observation(const Pod& pod) {
  PodObservation o;
  o.pod_id = pod.id;
  o.exit_reason = pod.exit_reason;
  o.ended_at = pod.ended_at;
  switch (pod.status) {
    case Pod::Status::kRunning:
      o.phase = Phase::kRunning;
      break;
    case Pod::Status::kExited:
      o.phase = Phase::kExited;
      break;
    case Pod::Status::kTerminated:
      o.phase = Phase::kTerminated;
      break;
    default:
      o.phase = Phase::kStarting;
      break;
  }
  return o;
}

bool RetryableProviderError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kResourceExhausted ||
         s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

// Jobs whose pod is watched: active, with a pod id.
bool Polled(const internal::JobRecord& r) {
  return IsActive(r.job().state()) && !r.pod().pod_id().empty();
}

}  // namespace

EffectRunner::EffectRunner(const Clock& wall_clock, Engine& engine,
                           Provider& provider, SchedulerClient& scheduler,
                           CostClient& cost, MetricsClient& metrics,
                           Notifier& notifier, RunnerOptions options)
    : wall_(wall_clock),
      engine_(engine),
      provider_(provider),
      scheduler_(scheduler),
      cost_(cost),
      metrics_(metrics),
      notifier_(notifier),
      options_(std::move(options)) {}

EffectRunner::~EffectRunner() { Stop(); }

int EffectRunner::RunOnce() {
  absl::StatusOr<std::vector<OutboxEntry>> heads =
      engine_.store().OutboxHeads();
  if (!heads.ok()) return 0;
  if (options_.metrics != nullptr) {
    absl::StatusOr<int64_t> size = engine_.store().OutboxSize();
    double oldest = 0;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [key, b] : backoff_) {
        oldest = std::max(oldest, absl::ToDoubleSeconds(wall_.Now() - b.since));
      }
    }
    options_.metrics->SetOutbox(size.ok() ? *size : 0, oldest);
  }
  int done = 0;
  for (const OutboxEntry& entry : *heads) {
    // Back-off per job and lane: the key without its sequence number.
    const std::string job = entry.key.substr(0, entry.key.size() - 8);
    {
      absl::MutexLock lock(&mu_);
      auto it = backoff_.find(job);
      if (it != backoff_.end() && wall_.Now() < it->second.next) continue;
    }
    absl::Status s = Execute(entry);
    absl::MutexLock lock(&mu_);
    if (s.ok()) {
      backoff_.erase(job);
      ++done;
      continue;
    }
    Backoff& b = backoff_[job];
    if (b.delay == absl::ZeroDuration()) b.since = wall_.Now();
    b.delay = b.delay == absl::ZeroDuration()
                  ? options_.retry_initial
                  : std::min(b.delay * 2, options_.retry_max);
    b.next = wall_.Now() + b.delay;
  }
  return done;
}

absl::Status EffectRunner::Execute(const OutboxEntry& entry) {
  const internal::Effect& e = entry.effect;
  const std::string& job = e.job_id();
  std::vector<std::string> done = {entry.key};
  switch (e.kind_case()) {
    case internal::Effect::kCreatePod:
      return ExecuteCreatePod(entry);
    case internal::Effect::kDeletePod:
      return ExecuteDeletePod(entry);
    case internal::Effect::kStopPod: {
      std::string id = e.stop_pod().pod_id();
      if (id.empty()) {
        ASSIGN_OR_RETURN(std::optional<Pod> pod,
                         provider_.FindPodByName(e.stop_pod().name()));
        if (pod) id = pod->id;
      }
      if (!id.empty()) {
        absl::Status s = provider_.StopPod(id);
        Count("stop", s);
        // A pod that is gone or already exited shows on the next poll.
        if (!s.ok() && !absl::IsNotFound(s) && !absl::IsFailedPrecondition(s)) {
          return s;
        }
      }
      return engine_.Complete(std::move(done));
    }
    case internal::Effect::kPollPod: {
      absl::StatusOr<Pod> pod = provider_.GetPod(e.poll_pod().pod_id());
      if (absl::IsNotFound(pod.status())) {
        Pod gone;
        gone.id = e.poll_pod().pod_id();
        PodObservation o;
        o.pod_id = gone.id;
        o.phase = Phase::kNotFound;
        return engine_.Apply(job, o, std::move(done)).status();
      }
      RETURN_IF_ERROR(pod.status());
      return ObservePod(job, *pod, std::move(done));
    }
    case internal::Effect::kEnqueue:
      RETURN_IF_ERROR(scheduler_.Enqueue(e.enqueue()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kRemoveFromQueue: {
      ASSIGN_OR_RETURN(bool removed,
                       scheduler_.RemoveFromQueue(e.remove_from_queue()));
      return engine_.Apply(job, RemoveFromQueueResult{removed}, std::move(done))
          .status();
    }
    case internal::Effect::kReleaseSlot:
      RETURN_IF_ERROR(scheduler_.ReleaseSlot(e.release_slot()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kRegisterJob:
      RETURN_IF_ERROR(cost_.RegisterJob(e.register_job()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kOpenMeter: {
      const auto& m = e.open_meter();
      cost::v1::OpenMeterRequest r;
      r.set_request_id(e.request_id());
      r.set_job_id(job);
      r.set_attempt(m.attempt());
      r.set_phase(m.phase());
      r.set_gpu_type(m.gpu_type());
      r.set_gpu_count(m.gpu_count());
      r.set_pricing(m.pricing());
      r.set_pod_id(m.pod_id());
      r.set_storage_bytes(m.storage_bytes());
      *r.mutable_start_time() = m.start_time();
      ASSIGN_OR_RETURN(std::string meter_id, cost_.OpenMeter(r));
      return engine_
          .Apply(job, MeterOpened{m.phase(), m.attempt(), meter_id},
                 std::move(done))
          .status();
    }
    case internal::Effect::kCloseMeter: {
      const auto& m = e.close_meter();
      ASSIGN_OR_RETURN(internal::JobRecord record, engine_.store().Get(job));
      std::string meter_id;
      for (const auto& ref : record.meters()) {
        if (ref.phase() == m.phase() && ref.attempt() == m.attempt()) {
          meter_id = ref.meter_id();
        }
      }
      if (!meter_id.empty()) {
        cost::v1::CloseMeterRequest r;
        r.set_meter_id(meter_id);
        *r.mutable_end_time() = m.end_time();
        r.set_reason(m.reason());
        if (m.has_last_step()) r.set_last_step(m.last_step());
        if (m.has_last_checkpoint_step()) {
          r.set_last_checkpoint_step(m.last_checkpoint_step());
        }
        RETURN_IF_ERROR(cost_.CloseMeter(r));
      }
      return engine_.Complete(std::move(done));
    }
    case internal::Effect::kFinalizeCost: {
      // The answer fixes the job's cost copy (domain/copies.h).
      ASSIGN_OR_RETURN(cost::v1::FinalizeJobCostResponse final_cost,
                       cost_.FinalizeJobCost(e.finalize_cost()));
      CopyRefresh copy;
      if (final_cost.has_cost()) copy.cost = SummaryOf(final_cost.cost());
      return engine_.Apply(job, copy, std::move(done)).status();
    }
    case internal::Effect::kSetBudget:
      RETURN_IF_ERROR(cost_.SetJobBudget(e.set_budget()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kCostDelete:
      RETURN_IF_ERROR(cost_.DeleteJobData(e.cost_delete()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kMetricsDelete:
      RETURN_IF_ERROR(metrics_.DeleteJobData(job));
      return engine_.Complete(std::move(done));
    case internal::Effect::kEvent:
      RETURN_IF_ERROR(metrics_.IngestEvent(e.event()));
      return engine_.Complete(std::move(done));
    case internal::Effect::kNotify: {
      ASSIGN_OR_RETURN(internal::JobRecord record, engine_.store().Get(job));
      ASSIGN_OR_RETURN(notify::DeliveryOutcome outcome,
                       notifier_.Notify(record.job(), e));
      return engine_.CompleteNotification(std::move(done), e.notify(), outcome);
    }
    case internal::Effect::KIND_NOT_SET:
      return engine_.Complete(std::move(done));
  }
  return engine_.Complete(std::move(done));
}

void EffectRunner::Count(std::string_view operation,
                         const absl::Status& outcome) {
  if (options_.metrics != nullptr) {
    options_.metrics->ProviderCall(operation, outcome);
  }
}

absl::Status EffectRunner::ExecuteCreatePod(const OutboxEntry& entry) {
  const internal::CreatePodEffect& c = entry.effect.create_pod();
  const std::string& job = entry.effect.job_id();
  ASSIGN_OR_RETURN(internal::JobRecord record, engine_.store().Get(job));
  PodEnvInput env;
  env.job_id = job;
  env.webhook_base_url = options_.webhook_base_urls[shard::ShardOf(
      job, static_cast<int>(options_.webhook_base_urls.size()))];
  env.webhook_secret =
      webhook::DeriveJobSecret(options_.webhook_master_key, job);
  env.config = record.job().spec().config();
  env.attempt = c.attempt();
  env.resume_step = c.resume_step();
  PodRequest req;
  req.name = c.name();
  req.image = options_.trainer_image;
  req.gpu_type = c.gpu_type();
  req.gpu_count = c.gpu_count();
  req.interruptible = c.pricing() == common::v1::PRICING_SPOT;
  req.env = PodEnv(env);
  absl::StatusOr<Pod> pod = provider_.CreatePod(req);
  Count("create", pod.status());
  CreatePodResult result;
  result.attempt = c.attempt();
  if (pod.ok()) {
    result.outcome = CreatePodResult::Outcome::kCreated;
    result.pod_id = pod->id;
    result.created_at = pod->created_at;
  } else if (absl::IsInvalidArgument(pod.status())) {
    result.outcome = CreatePodResult::Outcome::kRejected;
    result.message = std::string(pod.status().message());
  } else if (RetryableProviderError(pod.status())) {
    result.outcome = CreatePodResult::Outcome::kRetryable;
    result.retry_after = RetryAfter(pod.status());
    result.message = std::string(pod.status().message());
  } else {
    return pod.status();  // e.g. a bad API key: keep trying, do not fail jobs
  }
  return engine_.Apply(job, result, {entry.key}).status();
}

absl::Status EffectRunner::ExecuteDeletePod(const OutboxEntry& entry) {
  const internal::PodEffect& d = entry.effect.delete_pod();
  const std::string& job = entry.effect.job_id();
  std::string id = d.pod_id();
  if (id.empty()) {
    // The create's answer never came: adopt by name, or learn there is none.
    ASSIGN_OR_RETURN(std::optional<Pod> pod, provider_.FindPodByName(d.name()));
    if (!pod) {
      PodObservation none;
      none.phase = Phase::kNotFound;
      return engine_.Apply(job, none, {entry.key}).status();
    }
    id = pod->id;
  }
  absl::Status deleted = provider_.DeletePod(id);
  Count("delete", deleted);
  RETURN_IF_ERROR(deleted);
  // Report the pod's state now (TERMINATED at once ends a cancel quickly).
  absl::StatusOr<Pod> pod = provider_.GetPod(id);
  if (absl::IsNotFound(pod.status())) {
    PodObservation o;
    o.pod_id = id;
    o.phase = Phase::kNotFound;
    return engine_.Apply(job, o, {entry.key}).status();
  }
  if (!pod.ok()) return engine_.Complete({entry.key});  // the poll will see
  return ObservePod(job, *pod, {entry.key});
}

absl::Status EffectRunner::ObservePod(const std::string& job_id, const Pod& pod,
                                      std::vector<std::string> done) {
  PodObservation o = Observation(pod);
  if (o.phase == Phase::kExited) {
    ASSIGN_OR_RETURN(o.latest_job_seq, metrics_.LatestJobSeq(job_id));
  }
  return engine_.Apply(job_id, o, std::move(done)).status();
}

void EffectRunner::TickOnce() {
  auto jobs = engine_.store().ListJobs();
  if (!jobs.ok()) return;
  const absl::Time now = engine_.clock().Now();
  if (options_.metrics != nullptr) {
    std::map<common::v1::JobState, int64_t> counts;
    int64_t stalled = 0;
    for (const internal::JobRecord& r : *jobs) {
      if (r.deleted()) continue;
      ++counts[r.job().state()];
      if (IsActive(r.job().state()) && r.has_stall_since()) ++stalled;
    }
    options_.metrics->SetJobsByState(counts, stalled);
  }
  for (const internal::JobRecord& r : *jobs) {
    std::optional<absl::Time> due = NextTimer(engine_.options(), r);
    if (due && *due <= now) {
      (void)engine_.Apply(r.job().job_id(), TimerTick{});
    }
  }
}

void EffectRunner::PollOnce(bool force) {
  auto jobs = engine_.store().ListJobs();
  if (!jobs.ok()) return;
  const absl::Time now = engine_.clock().Now();
  for (const internal::JobRecord& r : *jobs) {
    if (!Polled(r)) continue;
    const std::string& id = r.job().job_id();
    {
      absl::MutexLock lock(&mu_);
      auto it = last_poll_.find(id);
      if (!force && it != last_poll_.end() &&
          now - it->second < options_.pod_poll_interval) {
        continue;
      }
      last_poll_[id] = now;
    }
    absl::StatusOr<Pod> pod = provider_.GetPod(r.pod().pod_id());
    Count("get", pod.status());
    if (absl::IsNotFound(pod.status())) {
      PodObservation o;
      o.pod_id = r.pod().pod_id();
      o.phase = Phase::kNotFound;
      (void)engine_.Apply(id, o);
    } else if (pod.ok()) {
      (void)ObservePod(id, *pod, {});
    }
  }
}

void EffectRunner::Start() {
  thread_ = std::thread([this] {
    // Reconcile at start: the outbox runs first, then every pod is polled.
    bool first = true;
    while (true) {
      RunOnce();
      TickOnce();
      PollOnce(first);
      first = false;
      absl::MutexLock lock(&mu_);
      if (!woken_ && !stopping_) {
        wake_.WaitWithTimeout(&mu_, options_.loop_interval);
      }
      if (stopping_) return;
      woken_ = false;
    }
  });
}

void EffectRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.Signal();
  }
  if (thread_.joinable()) thread_.join();
}

void EffectRunner::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
  wake_.Signal();
}

}  // namespace trainyard::jobs
