// Copyright 2026 Trainyard authors.
//
// The job lifecycle (orchestration.md, "The lifecycle, with every path") as one
// pure function: (record, input, now) -> (record', effects, audit entries). No
// clock, no storage, no RPC: job-control's engine stores the result (record,
// effects as outbox entries, audit, and the stream cursor of the input) in one
// write batch, then runs the effects.
//
// Inputs are user commands, scheduler assignments, metrics events, provider pod
// observations and call results, cost budget alerts and timer ticks. Inputs
// that do not apply (an old attempt's event, a duplicate assignment) return a
// Transition with changed == false: nothing to write but the cursor.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/cost/v1/cost.pb.h"
#include "trainyard/jobs/internal/job_record.pb.h"
#include "trainyard/jobs/v1/jobs.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::jobs {

// Timeouts and limits of the lifecycle, in suite time (flags of
// trainyard-jobs).
struct LifecycleOptions {
  // PROVISIONING without a pod (provider 429/5xx/timeouts): FAILED NO_CAPACITY.
  absl::Duration provision_timeout = absl::Minutes(30);
  // Pod RUNNING but no container event: FAILED START_TIMEOUT.
  absl::Duration start_timeout = absl::Minutes(15);
  // PAUSING without the pod exiting: paused at the last checkpoint anyway.
  absl::Duration pause_timeout = absl::Minutes(10);
  // Stall warning and the pod still RUNNING and silent: FAILED STALL_TIMEOUT.
  absl::Duration stall_fail_after = absl::Minutes(30);
  // Recoveries allowed; the interruption after them fails the job
  // (PREEMPTED_TOO_OFTEN).
  int64_t max_recoveries = 3;
  // Provider back-off for creates without Retry-After: initial, doubling, cap.
  absl::Duration create_backoff_initial = absl::Seconds(30);
  absl::Duration create_backoff_max = absl::Minutes(5);
  // Cancel: re-DELETE interval, RETRYING after, UNCONFIRMED (give up) after.
  absl::Duration terminate_retry_interval = absl::Seconds(10);
  absl::Duration terminate_slow_after = absl::Seconds(60);
  absl::Duration terminate_give_up_after = absl::Minutes(5);
};

// Who asked (commands) and the call's idempotency key.
struct Actor {
  common::v1::UserRef user;
  common::v1::Role role = common::v1::ROLE_UNSPECIFIED;
  std::string request_id;
};

// The system actor of automatic transitions (user_id "system").
Actor SystemActor();

// ---- user commands ---------------------------------------------------------

struct CancelCommand {
  Actor actor;
  v1::CancelReason reason = v1::CANCEL_REASON_UNSPECIFIED;
  std::string reason_text;
  std::string notes;
};
struct PauseCommand {
  Actor actor;
  std::string notes;
};
struct ResumeCommand {
  Actor actor;
  std::optional<common::v1::GpuType> gpu_type;
  std::optional<common::v1::Pricing> pricing;
};
struct RetryCommand {
  Actor actor;
  common::v1::Stage from_stage = common::v1::STAGE_UNSPECIFIED;
  std::optional<common::v1::GpuType> gpu_type;
  std::optional<common::v1::Pricing> pricing;
};
struct DeleteCommand {
  Actor actor;
};
// UpdateJob: `spec` holds the already validated new values of the paths in
// `paths` ("spec.display_name", ...).
struct UpdateCommand {
  Actor actor;
  v1::JobSpec spec;
  std::vector<std::string> paths;
};

// ---- what the outside world says ------------------------------------------

// The scheduler gave the job a slot.
struct AssignmentInput {
  scheduler::v1::Assignment assignment;
};
// An event of the job from metrics' WatchEvents stream.
struct EventInput {
  metrics::v1::Event event;
};
// What GET /v2/pods/{id} (or a lookup by name) showed.
struct PodObservation {
  enum class Phase {
    kStarting,  // PROVISIONING / STARTING at the provider
    kRunning,
    kExited,      // with exit_reason
    kTerminated,  // deleted
    kNotFound,    // 404, or no pod of that name
  };
  std::string pod_id;
  Phase phase = Phase::kStarting;
  // For kExited: "completed", "failed", "stopped" or "interrupted".
  std::string exit_reason;
  // The job's latest job_seq in metrics (GetProgress) when the pod was seen:
  // an exit is acted on only once the events stream has passed it.
  uint64_t latest_job_seq = 0;
  // When the pod stopped using its GPU (provider's exitedAt/terminatedAt),
  // if known: the compute meter closes there, not when this was seen.
  std::optional<absl::Time> ended_at;
};
// The answer of a CREATE_POD effect (after the client's own quick retries).
struct CreatePodResult {
  enum class Outcome {
    kCreated,    // pod_id set (created, or adopted by name)
    kRejected,   // 4xx other than 429: the spec cannot be provisioned
    kRetryable,  // 429, 5xx, timeout: back off, keep the slot
  };
  int32_t attempt = 0;
  Outcome outcome = Outcome::kCreated;
  std::string pod_id;
  // 429 Retry-After; zero when none.
  absl::Duration retry_after = absl::ZeroDuration();
  std::string message;
  // kCreated: the provider's createdAt, if known (an adopted pod may be
  // older than this answer): the compute meter opens there.
  std::optional<absl::Time> created_at;
};
// The answer of RemoveFromQueue after a cancel of a queued job.
struct RemoveFromQueueResult {
  bool removed = false;
};
// The answer of OpenMeter (its id, for CloseMeter).
struct MeterOpened {
  common::v1::CostPhase phase = common::v1::COST_PHASE_UNSPECIFIED;
  int32_t attempt = 0;
  std::string meter_id;
};
// A cost alert from WatchBudgetAlerts.
struct BudgetAlertInput {
  cost::v1::BudgetAlert alert;
};
// Time passed: timeouts, back-offs and re-DELETEs that are due fire.
struct TimerTick {};
// Fresh figures for the job's progress and cost copies (domain/copies.h):
// a periodic refresh, or FinalizeJobCost's answer.
struct CopyRefresh {
  std::optional<common::v1::Progress> progress;
  std::optional<common::v1::CostSummary> cost;
};

using Input =
    std::variant<CancelCommand, PauseCommand, ResumeCommand, RetryCommand,
                 DeleteCommand, UpdateCommand, AssignmentInput, EventInput,
                 PodObservation, CreatePodResult, RemoveFromQueueResult,
                 MeterOpened, BudgetAlertInput, TimerTick, CopyRefresh>;

// The result of one input.
struct Transition {
  internal::JobRecord record;
  std::vector<internal::Effect> effects;
  std::vector<v1::AuditEntry> audit;
  // False when the input changed nothing (no effects, no audit, same record).
  bool changed = false;
};

// A new job (CreateJob): QUEUED with cost.RegisterJob, scheduler.Enqueue and
// the "queued" event. REQUIRES: `spec` normalized by NormalizeSpec.
Transition NewJob(const std::string& job_id, const v1::JobSpec& spec,
                  const Actor& creator, absl::Time now);

// Applies `input` to `record` at `now`.
// Errors (commands only; the record is then unchanged): FAILED_PRECONDITION
// with reason JOB_TERMINAL, JOB_NOT_TRAINING, JOB_NOT_PAUSED, JOB_NOT_FAILED,
// STAGE_NOT_RETRYABLE or JOB_NOT_TERMINAL and the state named in the message.
absl::StatusOr<Transition> Apply(const LifecycleOptions& options,
                                 const internal::JobRecord& record,
                                 const Input& input, absl::Time now);

// When the next TimerTick can change `record` (a timeout, a back-off, a
// re-DELETE); nullopt when no timer is pending.
std::optional<absl::Time> NextTimer(const LifecycleOptions& options,
                                    const internal::JobRecord& record);

// The job as a reader sees it at `now`: duration, active and paused time
// ticking for a running job.
v1::Job ProjectJob(const internal::JobRecord& record, absl::Time now);

// The state of a job whose container reports `stage` (PREPROCESSING ->
// PREPROCESSING, ..., FINALIZATION -> FINALIZING); UNSPECIFIED for none.
common::v1::JobState StateOfStage(common::v1::Stage stage);

// State classes (common.proto JobState).
bool IsTerminal(common::v1::JobState state);
// PROVISIONING .. FINALIZING, RECOVERING, PAUSING, CANCELLING.
bool IsActive(common::v1::JobState state);

// The pod name of an attempt: "{job_id}-a{attempt}".
std::string PodName(std::string_view job_id, int32_t attempt);

}  // namespace trainyard::jobs
