// Copyright 2026 Trainyard authors.
#include "services/jobs/domain/lifecycle.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/copies.h"
#include "services/jobs/domain/errors.h"
#include "services/jobs/domain/transition_builder.h"

namespace trainyard::jobs {
namespace {

using common::v1::JobState;
using common::v1::Stage;
using Phase = PodObservation::Phase;

// States in which the container's reports drive the job.
bool IsRunning(JobState s) {
  switch (s) {
    case common::v1::JOB_STATE_PROVISIONING:
    case common::v1::JOB_STATE_PREPROCESSING:
    case common::v1::JOB_STATE_MODEL_LOADING:
    case common::v1::JOB_STATE_TRAINING:
    case common::v1::JOB_STATE_FINALIZING:
    case common::v1::JOB_STATE_RECOVERING:
      return true;
    default:
      return false;
  }
}

std::string CancelReasonName(v1::CancelReason r) {
  return v1::CancelReason_Name(r).substr(sizeof("CANCEL_REASON_") - 1);
}

bool IsSpot(const internal::JobRecord& r) {
  return r.job().spec().config().pricing() == common::v1::PRICING_SPOT;
}

// Storage of a paused checkpoint at $0.20 per GB-month (domain.md), GB = 1e9
// bytes, per month of `d`, rounded half up; 30-day months.
int64_t StorageMicros(int64_t bytes, absl::Duration d) {
  const double months = absl::ToDoubleHours(d) / (24 * 30);
  return static_cast<int64_t>(bytes / 1e9 * 200000 * months + 0.5);
}

class Lifecycle {
 public:
  explicit Lifecycle(TransitionBuilder& b) : b_(b) {}

  absl::Status operator()(const CancelCommand& c) {
    return Cancel(c.actor, c.reason, c.reason_text, c.notes);
  }

  absl::Status operator()(const PauseCommand& c) {
    if (b_.state() != common::v1::JOB_STATE_TRAINING) {
      return JobStateError(kReasonJobNotTraining, b_.state(),
                           "only a TRAINING job can be paused");
    }
    Pause(c.actor, "", c.notes);
    return absl::OkStatus();
  }

  absl::Status operator()(const ResumeCommand& c) {
    if (b_.state() != common::v1::JOB_STATE_PAUSED) {
      return JobStateError(kReasonJobNotPaused, b_.state(),
                           "only a PAUSED job can be resumed");
    }
    auto& r = b_.record();
    v1::Job& j = b_.job();
    auto* config = j.mutable_spec()->mutable_config();
    const bool hw_changed = (c.gpu_type && *c.gpu_type != config->gpu_type()) ||
                            (c.pricing && *c.pricing != config->pricing());
    if (c.gpu_type) config->set_gpu_type(*c.gpu_type);
    if (c.pricing) config->set_pricing(*c.pricing);
    b_.ClosePausedStorage(cost::v1::METER_CLOSE_REASON_RESUMED);
    EndPausedPeriod();
    if (r.cycles_size() > 0) {
      v1::PauseCycle* cycle = r.mutable_cycles(r.cycles_size() - 1);
      *cycle->mutable_resumed_by() = c.actor.user;
      *cycle->mutable_resume_request_time() = ToProto(b_.now());
      cycle->set_gpu_type_after(config->gpu_type());
      cycle->set_pricing_after(config->pricing());
    }
    j.set_pause_cycles(j.pause_cycles() + 1);
    const int64_t step = j.pause().paused_at_step();
    b_.NextAttempt(step);
    if (hw_changed) b_.RegisterCost(step);
    b_.Enqueue();
    auto* p = b_.SetState(
        common::v1::JOB_STATE_QUEUED, c.actor, "RESUMED",
        absl::StrCat("Resumed: queued to continue from step ", step));
    p->set_resume_from_step(step);
    auto* a = b_.Audit(v1::AUDIT_ACTION_RESUMED, c.actor,
                       common::v1::JOB_STATE_PAUSED, "");
    if (hw_changed) {
      (*a->mutable_details())["gpu_type"] =
          common::v1::GpuType_Name(config->gpu_type());
      (*a->mutable_details())["pricing"] =
          common::v1::Pricing_Name(config->pricing());
    }
    b_.Notify(common::v1::NOTIFICATION_TRIGGER_JOB_RESUMED,
              absl::StrCat("Job ", j.spec().display_name(),
                           " resumed from step ", step));
    return absl::OkStatus();
  }

  absl::Status operator()(const RetryCommand& c) {
    if (b_.state() != common::v1::JOB_STATE_FAILED) {
      return JobStateError(kReasonJobNotFailed, b_.state(),
                           "only a FAILED job can be retried");
    }
    v1::Job& j = b_.job();
    const auto& allowed = j.failure().retryable_from();
    if (std::find(allowed.begin(), allowed.end(), c.from_stage) ==
        allowed.end()) {
      return WithReason(absl::FailedPreconditionError(absl::StrCat(
                            "stage ", common::v1::Stage_Name(c.from_stage),
                            " is not in failure.retryable_from")),
                        kReasonStageNotRetryable);
    }
    auto* config = j.mutable_spec()->mutable_config();
    if (c.gpu_type) config->set_gpu_type(*c.gpu_type);
    if (c.pricing) config->set_pricing(*c.pricing);
    const bool from_checkpoint = c.from_stage == common::v1::STAGE_TRAINING ||
                                 c.from_stage == common::v1::STAGE_FINALIZATION;
    const int64_t step =
        from_checkpoint ? b_.record().last_checkpoint().step() : 0;
    j.clear_end_time();
    ReopenCopies(b_.record());
    b_.record().set_recoveries(0);
    b_.NextAttempt(step);
    b_.RegisterCost(step);  // reopens the cost (clears `final`)
    b_.Enqueue();
    auto* p = b_.SetState(
        common::v1::JOB_STATE_QUEUED, c.actor, "RETRIED",
        absl::StrCat("Retry from ", common::v1::Stage_Name(c.from_stage),
                     step > 0 ? absl::StrCat(" at step ", step) : ""));
    p->set_resume_from_step(step);
    b_.Audit(v1::AUDIT_ACTION_RETRIED, c.actor, common::v1::JOB_STATE_FAILED,
             "")
        ->mutable_details()
        ->insert({"from_stage", common::v1::Stage_Name(c.from_stage)});
    return absl::OkStatus();
  }

  absl::Status operator()(const DeleteCommand& c) {
    if (!IsTerminal(b_.state())) {
      return JobStateError(kReasonJobNotTerminal, b_.state(),
                           "cancel the job before deleting it");
    }
    if (b_.record().deleted()) return absl::OkStatus();
    b_.record().set_deleted(true);
    b_.PurgeData();
    b_.Audit(v1::AUDIT_ACTION_DELETED, c.actor, b_.state(), "");
    return absl::OkStatus();
  }

  absl::Status operator()(const UpdateCommand& c) {
    v1::JobSpec* spec = b_.job().mutable_spec();
    bool budget = false;
    for (const std::string& path : c.paths) {
      if (path == "spec.display_name") {
        spec->set_display_name(c.spec.display_name());
      } else if (path == "spec.tags") {
        *spec->mutable_tags() = c.spec.tags();
      } else if (path == "spec.notes") {
        spec->set_notes(c.spec.notes());
      } else if (path == "spec.budget") {
        budget = true;
        if (c.spec.has_budget()) {
          *spec->mutable_budget() = c.spec.budget();
        } else {
          spec->clear_budget();
        }
      } else if (path == "spec.notification_targets") {
        *spec->mutable_notification_targets() = c.spec.notification_targets();
      } else if (path == "spec.notification_triggers") {
        *spec->mutable_notification_triggers() = c.spec.notification_triggers();
      }
    }
    b_.record().set_spec_revision(b_.record().spec_revision() + 1);
    *b_.job().mutable_update_time() = ToProto(b_.now());
    if (budget) b_.SetBudget();
    b_.Audit(v1::AUDIT_ACTION_UPDATED, c.actor, b_.state(), "")
        ->mutable_details()
        ->insert({"update_mask", absl::StrJoin(c.paths, ",")});
    return absl::OkStatus();
  }

  absl::Status operator()(const AssignmentInput& in) {
    const auto& a = in.assignment;
    if (a.attempt() != b_.attempt()) return absl::OkStatus();  // stale
    if (b_.state() == common::v1::JOB_STATE_QUEUED) {
      Provision();
    } else if (b_.state() == common::v1::JOB_STATE_CANCELLED &&
               b_.job().cancellation().cancelled_from_state() ==
                   common::v1::JOB_STATE_QUEUED) {
      // The assignment raced the cancel: give the slot back.
      b_.ReleaseSlot(scheduler::v1::SLOT_OUTCOME_CANCELLED);
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const EventInput& in) {
    const metrics::v1::Event& e = in.event;
    auto& r = b_.record();
    // A stream resumed from an older cursor replays events: each counts once.
    if (e.job_seq() != 0 && e.job_seq() <= r.last_job_seq()) {
      return absl::OkStatus();
    }
    r.set_last_job_seq(std::max(r.last_job_seq(), e.job_seq()));
    if (e.source() == common::v1::EVENT_SOURCE_CONTROL_PLANE) {
      if (e.has_stall()) OnStall(e);
      return absl::OkStatus();
    }
    if (e.attempt() != b_.attempt()) return absl::OkStatus();  // old attempt
    r.mutable_pod()->set_container_reported(true);
    r.clear_stall_since();
    switch (e.type()) {
      case common::v1::EVENT_TYPE_CHECKPOINT:
        OnCheckpoint(e);
        break;
      case common::v1::EVENT_TYPE_ERROR:
        if (IsRunning(b_.state())) {
          b_.Fail(e.error().code().empty() ? kFailureContainerError
                                           : std::string_view(e.error().code()),
                  e.error().message(), e.error().details(),
                  r.stage() == common::v1::STAGE_UNSPECIFIED
                      ? common::v1::STAGE_PREPROCESSING
                      : r.stage());
        }
        break;
      default:
        if (e.has_status()) OnStatus(e.status());
        break;
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const PodObservation& o) {
    auto& r = b_.record();
    if (o.pod_id.empty() || o.pod_id != r.pod().pod_id()) {
      // Not the current pod. A lookup by name that found nothing while
      // cancelling means no pod was ever made.
      if (o.phase == Phase::kNotFound && o.pod_id.empty() &&
          b_.state() == common::v1::JOB_STATE_CANCELLING &&
          r.pod().pod_id().empty()) {
        FinishCancel(v1::TERMINATION_STATUS_TERMINATED);
      }
      return absl::OkStatus();
    }
    switch (o.phase) {
      case Phase::kStarting:
        break;
      case Phase::kRunning:
        if (!r.pod().has_running_time()) {
          *r.mutable_pod()->mutable_running_time() = ToProto(b_.now());
        }
        break;
      case Phase::kExited:
        OnExit(o);
        break;
      case Phase::kTerminated:
      case Phase::kNotFound:
        OnGone(EndOf(o));
        break;
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const CreatePodResult& res) {
    auto& r = b_.record();
    if (res.attempt != b_.attempt() || !r.pod().create_pending()) {
      return absl::OkStatus();
    }
    internal::PodState& pod = *r.mutable_pod();
    pod.set_create_pending(false);
    const JobState s = b_.state();
    switch (res.outcome) {
      case CreatePodResult::Outcome::kCreated:
        pod.set_pod_id(res.pod_id);
        if (s == common::v1::JOB_STATE_CANCELLING) {
          // The provider bills the pod until it is gone: so does the ledger.
          b_.OpenMeter(common::v1::COST_PHASE_ACTIVE_COMPUTE, res.created_at);
          b_.DeletePod();  // by id now
        } else if (IsRunning(s)) {
          b_.OpenMeter(s == common::v1::JOB_STATE_RECOVERING
                           ? common::v1::COST_PHASE_RECOVERY_OVERHEAD
                           : common::v1::COST_PHASE_ACTIVE_COMPUTE,
                       res.created_at);
          b_.Note(common::v1::EVENT_TYPE_INFO,
                  absl::StrCat("Pod ", res.pod_id, " created"));
        } else {
          b_.DeletePod();  // the job moved on (failed): no pod for it
        }
        break;
      case CreatePodResult::Outcome::kRejected:
        if (s == common::v1::JOB_STATE_CANCELLING) {
          FinishCancel(v1::TERMINATION_STATUS_NOT_NEEDED);
        } else if (IsRunning(s)) {
          pod.clear_name();  // nothing to delete
          b_.Fail(kFailureProvisioningFailed, res.message, "",
                  common::v1::STAGE_UNSPECIFIED);
        }
        break;
      case CreatePodResult::Outcome::kRetryable:
        if (IsRunning(s)) BackOff(res.retry_after);
        break;
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const RemoveFromQueueResult& res) {
    if (!res.removed && b_.state() == common::v1::JOB_STATE_CANCELLED) {
      b_.ReleaseSlot(scheduler::v1::SLOT_OUTCOME_CANCELLED);
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const MeterOpened& m) {
    for (auto& ref : *b_.record().mutable_meters()) {
      if (ref.phase() == m.phase && ref.attempt() == m.attempt) {
        ref.set_meter_id(m.meter_id);
      }
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const BudgetAlertInput& in) {
    const cost::v1::BudgetAlert& a = in.alert;
    if (a.kind() == cost::v1::ALERT_KIND_OVER_ESTIMATE) {
      b_.Notify(common::v1::NOTIFICATION_TRIGGER_COST_OVER_ESTIMATE,
                a.message());
      return absl::OkStatus();
    }
    if (a.kind() != cost::v1::ALERT_KIND_BUDGET_EXCEEDED ||
        IsTerminal(b_.state())) {
      return absl::OkStatus();
    }
    const Actor system = SystemActor();
    b_.Notify(common::v1::NOTIFICATION_TRIGGER_BUDGET_EXCEEDED,
              absl::StrCat(a.message(), " (budget action: ",
                           common::v1::BudgetAction_Name(a.action()), ")"));
    auto* entry = b_.Audit(v1::AUDIT_ACTION_BUDGET_ACTION, system, b_.state(),
                           kActionBudgetExceeded);
    (*entry->mutable_details())["action"] =
        common::v1::BudgetAction_Name(a.action());
    switch (a.action()) {
      case common::v1::BUDGET_ACTION_PAUSE:
        switch (b_.state()) {
          case common::v1::JOB_STATE_TRAINING:
            Pause(system, kActionBudgetExceeded, "");
            break;
          case common::v1::JOB_STATE_QUEUED:
          case common::v1::JOB_STATE_PROVISIONING:
          case common::v1::JOB_STATE_PREPROCESSING:
          case common::v1::JOB_STATE_MODEL_LOADING:
          case common::v1::JOB_STATE_RECOVERING:
            b_.record().set_budget_pause_pending(true);
            break;
          default:
            break;
        }
        break;
      case common::v1::BUDGET_ACTION_CANCEL:
        if (b_.state() != common::v1::JOB_STATE_CANCELLING) {
          return Cancel(system, v1::CANCEL_REASON_COST_TOO_HIGH, "",
                        a.message());
        }
        break;
      default:
        break;
    }
    return absl::OkStatus();
  }

  absl::Status operator()(const CopyRefresh& in) {
    if (in.progress) CopyProgress(b_.record(), *in.progress);
    if (in.cost) CopyCost(b_.record(), *in.cost);
    return absl::OkStatus();
  }

  absl::Status operator()(const TimerTick&) {
    auto& r = b_.record();
    const absl::Time now = b_.now();
    const LifecycleOptions& o = b_.options();
    const JobState s = b_.state();
    if (s == common::v1::JOB_STATE_CANCELLING) {
      TickCancel();
      return absl::OkStatus();
    }
    if (s == common::v1::JOB_STATE_PAUSING) {
      if (now - FromProto(b_.job().pause().pause_request_time()) >=
          o.pause_timeout) {
        b_.Note(
            common::v1::EVENT_TYPE_WARNING,
            absl::StrCat("Pause timed out: the pod did not exit; paused at "
                         "checkpoint step ",
                         r.last_checkpoint().step(), ", later steps are lost"));
        FinishPause(b_.now());
      }
      return absl::OkStatus();
    }
    if (!IsRunning(s)) return absl::OkStatus();
    const internal::PodState& pod = r.pod();
    if (pod.pod_id().empty()) {
      if (now - FromProto(r.provision_start_time()) >= o.provision_timeout) {
        b_.Fail(kFailureNoCapacity,
                "no GPU could be provisioned within the provisioning timeout",
                "", common::v1::STAGE_UNSPECIFIED);
      } else if (!pod.create_pending() &&
                 now >= FromProto(r.next_create_time())) {
        b_.CreatePod();
      }
      return absl::OkStatus();
    }
    if (pod.has_running_time() && !pod.container_reported() &&
        now - FromProto(pod.running_time()) >= o.start_timeout) {
      b_.Fail(kFailureStartTimeout,
              "the container sent no event after starting", "",
              common::v1::STAGE_UNSPECIFIED);
      return absl::OkStatus();
    }
    if (r.has_stall_since() &&
        now - FromProto(r.stall_since()) >= o.stall_fail_after) {
      b_.Fail(kFailureStallTimeout, "the pod runs but the job is silent", "",
              r.stage());
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Cancel(const Actor& actor, v1::CancelReason reason,
                      const std::string& reason_text,
                      const std::string& notes) {
    const JobState from = b_.state();
    if (IsTerminal(from)) {
      return JobStateError(kReasonJobTerminal, from,
                           "a finished job cannot be cancelled");
    }
    if (from == common::v1::JOB_STATE_CANCELLING) return absl::OkStatus();
    v1::CancellationInfo* c = b_.job().mutable_cancellation();
    c->set_reason(reason);
    c->set_reason_text(reason_text);
    c->set_notes(notes);
    *c->mutable_cancelled_by() = actor.user;
    *c->mutable_request_time() = ToProto(b_.now());
    c->set_cancelled_from_state(from);
    const std::string why = CancelReasonName(reason);
    b_.record().set_budget_pause_pending(false);
    if (from == common::v1::JOB_STATE_QUEUED ||
        from == common::v1::JOB_STATE_PAUSED) {
      if (from == common::v1::JOB_STATE_QUEUED) {
        b_.RemoveFromQueue("CANCELLED");
      } else {
        b_.ClosePausedStorage(cost::v1::METER_CLOSE_REASON_CANCELLED);
        EndPausedPeriod();
      }
      c->set_termination_status(v1::TERMINATION_STATUS_NOT_NEEDED);
      auto* p = b_.SetState(
          common::v1::JOB_STATE_CANCELLED, actor, why,
          absl::StrCat("Cancelled by ", actor.user.user_id(), ": ", why));
      p->set_reason_text(reason_text);
      p->set_notes(notes);
      b_.FinalizeCost(common::v1::JOB_STATE_CANCELLED);
      FillCancelAudit(b_.Audit(v1::AUDIT_ACTION_CANCELLED, actor, from, ""),
                      *c);
      NotifyCancelled();
      return absl::OkStatus();
    }
    c->set_termination_status(v1::TERMINATION_STATUS_TERMINATING);
    c->set_terminate_attempts(1);
    *b_.record().mutable_pod()->mutable_last_terminate_time() =
        ToProto(b_.now());
    b_.DeletePod();
    auto* p =
        b_.SetState(common::v1::JOB_STATE_CANCELLING, actor, why,
                    absl::StrCat("Cancel requested by ", actor.user.user_id(),
                                 ": ", why, "; terminating the GPU"));
    p->set_reason_text(reason_text);
    p->set_notes(notes);
    FillCancelAudit(
        b_.Audit(v1::AUDIT_ACTION_CANCEL_REQUESTED, actor, from, ""), *c);
    return absl::OkStatus();
  }

  static void FillCancelAudit(v1::AuditEntry* a,
                              const v1::CancellationInfo& c) {
    a->set_cancel_reason(c.reason());
    a->set_reason_text(c.reason_text());
    a->set_notes(c.notes());
  }

  void NotifyCancelled() {
    b_.Notify(
        common::v1::NOTIFICATION_TRIGGER_JOB_CANCELLED,
        absl::StrCat("Job ", b_.job().spec().display_name(), " cancelled by ",
                     b_.job().cancellation().cancelled_by().user_id()));
  }

  // CANCELLING -> CANCELLED once the pod is gone (or given up on).
  // `end`: when the pod stopped, if known.
  void FinishCancel(v1::TerminationStatus status,
                    std::optional<absl::Time> pod_end = std::nullopt) {
    v1::CancellationInfo* c = b_.job().mutable_cancellation();
    c->set_termination_status(status);
    absl::Time end = pod_end.value_or(b_.now());
    if (status == v1::TERMINATION_STATUS_TERMINATED) {
      *c->mutable_terminate_time() = ToProto(b_.now());
    } else if (status == v1::TERMINATION_STATUS_UNCONFIRMED) {
      end = FromProto(c->request_time());  // billing stopped at the cancel
    }
    b_.CloseCompute(cost::v1::METER_CLOSE_REASON_CANCELLED, end);
    b_.ReleaseSlot(scheduler::v1::SLOT_OUTCOME_CANCELLED);
    const std::string why = CancelReasonName(c->reason());
    auto* p =
        b_.SetState(common::v1::JOB_STATE_CANCELLED, SystemActor(), why,
                    status == v1::TERMINATION_STATUS_UNCONFIRMED
                        ? "Cancelled; GPU termination unconfirmed after 5 min"
                        : "Cancelled; GPU terminated");
    p->set_reason_text(c->reason_text());
    b_.FinalizeCost(common::v1::JOB_STATE_CANCELLED);
    auto* a = b_.Audit(v1::AUDIT_ACTION_CANCELLED, SystemActor(),
                       common::v1::JOB_STATE_CANCELLING, "");
    FillCancelAudit(a, *c);
    (*a->mutable_details())["termination_status"] =
        v1::TerminationStatus_Name(status);
    NotifyCancelled();
  }

  void TickCancel() {
    v1::CancellationInfo* c = b_.job().mutable_cancellation();
    auto& r = b_.record();
    const LifecycleOptions& o = b_.options();
    const absl::Duration since = b_.now() - FromProto(c->request_time());
    if (since >= o.terminate_give_up_after) {
      FinishCancel(v1::TERMINATION_STATUS_UNCONFIRMED);
      return;
    }
    if (b_.now() - FromProto(r.pod().last_terminate_time()) <
        o.terminate_retry_interval) {
      return;
    }
    c->set_terminate_attempts(c->terminate_attempts() + 1);
    *r.mutable_pod()->mutable_last_terminate_time() = ToProto(b_.now());
    b_.DeletePod();
    if (since >= o.terminate_slow_after &&
        c->termination_status() != v1::TERMINATION_STATUS_RETRYING) {
      c->set_termination_status(v1::TERMINATION_STATUS_RETRYING);
      b_.job().set_state_message(
          "GPU termination is taking longer than expected; still trying");
      b_.Note(common::v1::EVENT_TYPE_WARNING, "GPU termination slow, retrying");
    }
  }

  void Pause(const Actor& actor, std::string_view reason,
             const std::string& notes) {
    v1::PauseInfo* p = b_.job().mutable_pause();
    p->Clear();
    *p->mutable_pause_request_time() = ToProto(b_.now());
    *p->mutable_paused_by() = actor.user;
    b_.record().set_budget_pause_pending(false);
    b_.StopPod();
    b_.SetState(common::v1::JOB_STATE_PAUSING, actor, reason,
                absl::StrCat("Pause requested by ", actor.user.user_id(),
                             "; waiting for the checkpoint"));
    b_.Audit(v1::AUDIT_ACTION_PAUSE_REQUESTED, actor,
             common::v1::JOB_STATE_TRAINING, reason)
        ->set_notes(notes);
  }

  // PAUSING -> PAUSED at the attempt's last checkpoint; the GPU was billed
  // until `end`.
  void FinishPause(absl::Time end) {
    auto& r = b_.record();
    v1::Job& j = b_.job();
    const internal::CheckpointRef& ck = r.last_checkpoint();
    b_.DeletePod();
    b_.CloseCompute(cost::v1::METER_CLOSE_REASON_PAUSED, end);
    b_.ReleaseSlot(scheduler::v1::SLOT_OUTCOME_PAUSED);
    v1::PauseInfo* p = j.mutable_pause();
    *p->mutable_pause_time() = ToProto(b_.now());
    p->set_paused_at_step(ck.step());
    const int64_t total = j.spec().config().total_steps();
    p->set_percent(total > 0 ? 100.0 * ck.step() / total : 0);
    *p->mutable_active_training_time() = j.active_time();
    *p->mutable_cost_so_far() = j.cost().spend();
    p->set_checkpoint_size_bytes(ck.size_bytes());
    p->set_checkpoint_uri(ck.uri());
    p->mutable_storage_cost_per_month()->set_currency_code("USD");
    p->mutable_storage_cost_per_month()->set_micros(
        StorageMicros(ck.size_bytes(), absl::Hours(24 * 30)));
    b_.OpenMeter(common::v1::COST_PHASE_PAUSED_STORAGE);
    *r.mutable_paused_since() = ToProto(b_.now());
    v1::PauseCycle* cycle = r.add_cycles();
    cycle->set_cycle(r.cycles_size());
    *cycle->mutable_paused_by() = p->paused_by();
    *cycle->mutable_pause_request_time() = p->pause_request_time();
    *cycle->mutable_pause_time() = p->pause_time();
    cycle->set_paused_at_step(ck.step());
    cycle->set_checkpoint_size_bytes(ck.size_bytes());
    cycle->set_gpu_type_before(j.spec().config().gpu_type());
    cycle->set_pricing_before(j.spec().config().pricing());
    b_.SetState(common::v1::JOB_STATE_PAUSED, SystemActor(), "",
                absl::StrCat("Paused at step ", ck.step()));
    b_.Audit(v1::AUDIT_ACTION_PAUSED, SystemActor(),
             common::v1::JOB_STATE_PAUSING, "");
    b_.Notify(common::v1::NOTIFICATION_TRIGGER_JOB_PAUSED,
              absl::StrCat("Job ", j.spec().display_name(), " paused at step ",
                           ck.step()));
  }

  // Adds the paused period that ends now to paused_time and to its cycle.
  void EndPausedPeriod() {
    auto& r = b_.record();
    if (!r.has_paused_since()) return;
    const absl::Duration d = b_.now() - FromProto(r.paused_since());
    *b_.job().mutable_paused_time() =
        ToProto(FromProto(b_.job().paused_time()) + d);
    if (r.cycles_size() > 0) {
      v1::PauseCycle* cycle = r.mutable_cycles(r.cycles_size() - 1);
      *cycle->mutable_paused_duration() = ToProto(d);
      cycle->mutable_storage_cost()->set_currency_code("USD");
      cycle->mutable_storage_cost()->set_micros(
          StorageMicros(cycle->checkpoint_size_bytes(), d));
    }
    r.clear_paused_since();
  }

  // QUEUED -> PROVISIONING: ask for the attempt's pod.
  void Provision() {
    auto& r = b_.record();
    v1::Job& j = b_.job();
    if (!j.has_start_time()) *j.mutable_start_time() = ToProto(b_.now());
    *r.mutable_provision_start_time() = ToProto(b_.now());
    r.set_stage(common::v1::STAGE_UNSPECIFIED);
    b_.CreatePod();
    const auto& c = j.spec().config();
    auto* p =
        b_.SetState(common::v1::JOB_STATE_PROVISIONING, SystemActor(), "",
                    absl::StrCat("Provisioning ", c.gpu_count(), "x ",
                                 common::v1::GpuType_Name(c.gpu_type()), " (",
                                 common::v1::Pricing_Name(c.pricing()), ")"));
    p->set_gpu_type(c.gpu_type());
    p->set_pricing(c.pricing());
    if (r.resume_step() > 0) p->set_resume_from_step(r.resume_step());
    b_.Audit(v1::AUDIT_ACTION_STATE_CHANGED, SystemActor(),
             common::v1::JOB_STATE_QUEUED, kActionSlotAssigned);
    b_.Notify(common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED,
              absl::StrCat("Job ", j.spec().display_name(),
                           " is provisioning its GPU"));
  }

  void BackOff(absl::Duration retry_after) {
    auto& r = b_.record();
    const LifecycleOptions& o = b_.options();
    absl::Duration wait = retry_after;
    absl::Duration next = FromProto(r.create_backoff());
    if (next <= absl::ZeroDuration()) next = o.create_backoff_initial;
    if (wait <= absl::ZeroDuration()) {
      wait = next;
      *r.mutable_create_backoff() =
          ToProto(std::min(next * 2, o.create_backoff_max));
    }
    *r.mutable_next_create_time() = ToProto(b_.now() + wait);
    b_.job().set_state_message(absl::StrCat("No GPU capacity yet; retrying in ",
                                            absl::FormatDuration(wait)));
  }

  void OnCheckpoint(const metrics::v1::Event& e) {
    auto& r = b_.record();
    const auto& ck = e.checkpoint();
    internal::CheckpointRef* ref = r.mutable_last_checkpoint();
    ref->set_step(ck.step());
    ref->set_uri(ck.uri());
    ref->set_size_bytes(ck.size_bytes());
    ref->set_attempt(e.attempt());
    *ref->mutable_time() = e.occurred_time();
    auto* artifacts = b_.job().mutable_artifacts();
    v1::Artifact a;
    a.set_kind(v1::ARTIFACT_KIND_CHECKPOINT);
    a.set_uri(ck.uri());
    a.set_size_bytes(ck.size_bytes());
    a.set_step(ck.step());
    a.set_attempt(e.attempt());
    *a.mutable_create_time() = e.occurred_time();
    artifacts->Add(std::move(a));
    // Newest first.
    std::rotate(artifacts->rbegin(), artifacts->rbegin() + 1,
                artifacts->rend());
  }

  void OnStatus(const metrics::v1::StatusPayload& st) {
    auto& r = b_.record();
    const JobState s = b_.state();
    if (st.stage() == common::v1::STAGE_UNSPECIFIED) return;
    r.set_stage(st.stage());
    if (!r.progress_final()) b_.job().mutable_progress()->set_stage(st.stage());
    if (st.stage() == common::v1::STAGE_FINALIZATION &&
        st.stage_progress() >= 100) {
      r.set_finalization_done(true);
    }
    if (!IsRunning(s)) return;  // pausing, cancelling: logged, not acted on
    if (st.stage() == common::v1::STAGE_TRAINING &&
        b_.ComputePhase() == common::v1::COST_PHASE_RECOVERY_OVERHEAD) {
      b_.OpenMeter(common::v1::COST_PHASE_ACTIVE_COMPUTE);  // closes RECOVERY
    }
    const JobState to = StateOfStage(st.stage());
    if (to == s) return;
    // The stage's substatus when the state changed; for training it would name
    // a step that the job's progress soon leaves behind ("Step 0/8000...").
    std::string message = to == common::v1::JOB_STATE_TRAINING
                              ? "Training started"
                              : st.substatus();
    if (s == common::v1::JOB_STATE_RECOVERING &&
        to == common::v1::JOB_STATE_TRAINING) {
      message = absl::StrCat("Resumed from step ", st.has_resumed_from_step()
                                                       ? st.resumed_from_step()
                                                       : r.resume_step());
    }
    if (message.empty()) {
      message = absl::StrCat("Stage ", common::v1::Stage_Name(st.stage()));
    }
    auto* p = b_.SetState(to, SystemActor(), "", std::move(message));
    if (st.has_resumed_from_step()) {
      p->set_resume_from_step(st.resumed_from_step());
    }
    if (to == common::v1::JOB_STATE_TRAINING) {
      MarkResumed();
      b_.Notify(common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED,
                absl::StrCat("Job ", b_.job().spec().display_name(),
                             " started training"));
      if (r.budget_pause_pending())
        Pause(SystemActor(), kActionBudgetExceeded, "");
    }
  }

  // The open pause cycle's resume_time: training runs again.
  void MarkResumed() {
    auto& r = b_.record();
    if (r.cycles_size() == 0) return;
    v1::PauseCycle* cycle = r.mutable_cycles(r.cycles_size() - 1);
    if (cycle->has_resume_request_time() && !cycle->has_resume_time()) {
      *cycle->mutable_resume_time() = ToProto(b_.now());
    }
  }

  void OnStall(const metrics::v1::Event& e) {
    const auto& st = e.stall();
    auto& r = b_.record();
    if (st.cleared()) {
      r.clear_stall_since();
      return;
    }
    const JobState s = b_.state();
    if (!IsRunning(s)) return;  // pausing, cancelling: logged only
    if (st.reason() == common::v1::STALL_REASON_NO_HEARTBEAT ||
        st.reason() == common::v1::STALL_REASON_SUSPECTED_PREEMPTION) {
      if (!r.has_stall_since()) *r.mutable_stall_since() = ToProto(b_.now());
      b_.PollPod();
    } else {
      b_.Notify(common::v1::NOTIFICATION_TRIGGER_JOB_STALLED,
                absl::StrCat("Job ", b_.job().spec().display_name(), ": ",
                             e.message()));
    }
  }

  // When the observed pod stopped: the provider's time when it reports one.
  absl::Time EndOf(const PodObservation& o) const {
    return o.ended_at ? std::min(*o.ended_at, b_.now()) : b_.now();
  }

  void OnExit(const PodObservation& o) {
    auto& r = b_.record();
    const JobState s = b_.state();
    const absl::Time end = EndOf(o);
    if (o.latest_job_seq > r.last_job_seq()) {
      r.set_exit_waits_for_job_seq(o.latest_job_seq);  // events first
      return;
    }
    r.set_exit_waits_for_job_seq(0);
    if (s == common::v1::JOB_STATE_CANCELLING) return;  // wait for the DELETE
    if (s == common::v1::JOB_STATE_PAUSING) {
      FinishPause(end);
      return;
    }
    if (!IsRunning(s)) return;
    if (o.exit_reason == "completed") {
      if (s == common::v1::JOB_STATE_FINALIZING && r.finalization_done()) {
        Complete(end);
      } else {
        b_.Fail(kFailureContainerFailed,
                "the container exited without finishing training", "",
                r.stage(), end);
      }
    } else if (o.exit_reason == "failed") {
      b_.Fail(kFailureContainerFailed, "the container exited with a failure",
              "", r.stage(), end);
    } else {
      Interrupted(end);  // interrupted, or stopped without being asked
    }
  }

  // The pod is TERMINATED or unknown; `end`: when it stopped.
  void OnGone(absl::Time end) {
    const JobState s = b_.state();
    if (s == common::v1::JOB_STATE_CANCELLING) {
      FinishCancel(v1::TERMINATION_STATUS_TERMINATED, end);
    } else if (s == common::v1::JOB_STATE_PAUSING) {
      FinishPause(end);
    } else if (IsRunning(s) && !b_.record().pod().delete_requested()) {
      Interrupted(end);
    }
  }

  // The pod went away unasked at `end`: recover on spot, fail on demand.
  void Interrupted(absl::Time end) {
    auto& r = b_.record();
    if (!IsSpot(r)) {
      b_.Fail(kFailureProviderFailure, "the provider lost the on-demand pod",
              "", r.stage(), end);
      return;
    }
    if (r.recoveries() >= b_.options().max_recoveries) {
      b_.Fail(kFailurePreemptedTooOften,
              absl::StrCat("interrupted more than ", r.recoveries(), " times"),
              "", r.stage(), end);
      return;
    }
    const JobState from = b_.state();
    b_.DeletePod();
    b_.CloseCompute(cost::v1::METER_CLOSE_REASON_INTERRUPTED, end);
    const int64_t step = r.last_checkpoint().step();
    r.set_recoveries(r.recoveries() + 1);
    b_.NextAttempt(step);
    *r.mutable_provision_start_time() = ToProto(b_.now());
    b_.CreatePod();
    auto* p = b_.SetState(
        common::v1::JOB_STATE_RECOVERING, SystemActor(),
        kActionSpotInterruption,
        absl::StrCat("Spot interruption: recovering from step ", step));
    p->set_resume_from_step(step);
    b_.Audit(v1::AUDIT_ACTION_STATE_CHANGED, SystemActor(), from,
             kActionSpotInterruption);
  }

  // The pod exited `completed` at `end`.
  void Complete(absl::Time end) {
    auto& r = b_.record();
    v1::Job& j = b_.job();
    b_.DeletePod();
    b_.CloseCompute(cost::v1::METER_CLOSE_REASON_COMPLETED, end);
    b_.FinalizeCost(common::v1::JOB_STATE_COMPLETED);
    b_.ReleaseSlot(scheduler::v1::SLOT_OUTCOME_COMPLETED);
    const std::string prefix = UriPrefix(r.last_checkpoint().uri());
    if (!prefix.empty()) {
      for (auto [kind, file] :
           {std::pair{v1::ARTIFACT_KIND_TRAINING_SUMMARY,
                      "training_summary.json"},
            std::pair{v1::ARTIFACT_KIND_ADAPTER_CONFIG, "adapter_config.json"},
            std::pair{v1::ARTIFACT_KIND_ADAPTER, "adapter_model.bin"}}) {
        v1::Artifact* a = j.add_artifacts();
        a->set_kind(kind);
        a->set_uri(absl::StrCat(prefix, "/", file));
        a->set_attempt(j.attempt());
        *a->mutable_create_time() = ToProto(b_.now());
        std::rotate(j.mutable_artifacts()->rbegin(),
                    j.mutable_artifacts()->rbegin() + 1,
                    j.mutable_artifacts()->rend());
      }
    }
    CompleteProgress(r, b_.now());
    b_.SetState(common::v1::JOB_STATE_COMPLETED, SystemActor(), "",
                "Completed");
    b_.Audit(v1::AUDIT_ACTION_COMPLETED, SystemActor(),
             common::v1::JOB_STATE_FINALIZING, "");
    b_.Notify(common::v1::NOTIFICATION_TRIGGER_JOB_COMPLETED,
              absl::StrCat("Job ", j.spec().display_name(), " completed"));
  }

  TransitionBuilder& b_;
};

}  // namespace

JobState StateOfStage(common::v1::Stage stage) {
  switch (stage) {
    case common::v1::STAGE_PREPROCESSING:
      return common::v1::JOB_STATE_PREPROCESSING;
    case common::v1::STAGE_MODEL_LOADING:
      return common::v1::JOB_STATE_MODEL_LOADING;
    case common::v1::STAGE_TRAINING:
      return common::v1::JOB_STATE_TRAINING;
    case common::v1::STAGE_FINALIZATION:
      return common::v1::JOB_STATE_FINALIZING;
    default:
      return common::v1::JOB_STATE_UNSPECIFIED;
  }
}

Actor SystemActor() {
  Actor a;
  a.user.set_user_id("system");
  a.user.set_display_name("Trainyard");
  a.role = common::v1::ROLE_SERVICE;
  return a;
}

std::string PodName(std::string_view job_id, int32_t attempt) {
  return absl::StrCat(ToAbsl(job_id), "-a", attempt);
}

bool IsTerminal(JobState s) {
  return s == common::v1::JOB_STATE_COMPLETED ||
         s == common::v1::JOB_STATE_FAILED ||
         s == common::v1::JOB_STATE_CANCELLED;
}

bool IsActive(JobState s) {
  return IsRunning(s) || s == common::v1::JOB_STATE_PAUSING ||
         s == common::v1::JOB_STATE_CANCELLING;
}

Transition NewJob(const std::string& job_id, const v1::JobSpec& spec,
                  const Actor& creator, absl::Time now) {
  internal::JobRecord empty;
  v1::Job& j = *empty.mutable_job();
  j.set_job_id(job_id);
  *j.mutable_spec() = spec;
  *j.mutable_created_by() = creator.user;
  *j.mutable_create_time() = ToProto(now);
  j.set_attempt(1);
  empty.set_created_by_role(creator.role);
  empty.set_next_event_n(1);
  const internal::JobRecord before;
  LifecycleOptions options;
  TransitionBuilder b(options, empty, now);
  b.RegisterCost(0);
  b.Enqueue();
  auto* p = b.SetState(common::v1::JOB_STATE_QUEUED, creator, "", "Queued");
  p->set_total_steps(spec.config().total_steps());
  p->set_total_epochs(spec.config().hyperparameters().epochs());
  p->set_gpu_type(spec.config().gpu_type());
  p->set_pricing(spec.config().pricing());
  b.Audit(v1::AUDIT_ACTION_CREATED, creator, common::v1::JOB_STATE_UNSPECIFIED,
          "");
  return std::move(b).Finish(before);
}

absl::StatusOr<Transition> Apply(const LifecycleOptions& options,
                                 const internal::JobRecord& record,
                                 const Input& input, absl::Time now) {
  TransitionBuilder b(options, record, now);
  Lifecycle lifecycle(b);
  if (absl::Status s = std::visit(lifecycle, input); !s.ok()) return s;
  return std::move(b).Finish(record);
}

std::optional<absl::Time> NextTimer(const LifecycleOptions& o,
                                    const internal::JobRecord& r) {
  const JobState s = r.job().state();
  if (s == common::v1::JOB_STATE_CANCELLING) {
    const absl::Time req = FromProto(r.job().cancellation().request_time());
    return std::min(
        FromProto(r.pod().last_terminate_time()) + o.terminate_retry_interval,
        req + o.terminate_give_up_after);
  }
  if (s == common::v1::JOB_STATE_PAUSING) {
    return FromProto(r.job().pause().pause_request_time()) + o.pause_timeout;
  }
  if (!IsRunning(s)) return std::nullopt;
  std::optional<absl::Time> next;
  auto earliest = [&next](absl::Time t) {
    if (!next || t < *next) next = t;
  };
  if (r.pod().pod_id().empty()) {
    earliest(FromProto(r.provision_start_time()) + o.provision_timeout);
    if (!r.pod().create_pending()) earliest(FromProto(r.next_create_time()));
  } else if (r.pod().has_running_time() && !r.pod().container_reported()) {
    earliest(FromProto(r.pod().running_time()) + o.start_timeout);
  }
  if (r.has_stall_since()) {
    earliest(FromProto(r.stall_since()) + o.stall_fail_after);
  }
  return next;
}

v1::Job ProjectJob(const internal::JobRecord& r, absl::Time now) {
  v1::Job j = r.job();
  if (j.has_start_time()) {
    const absl::Time end = j.has_end_time() ? FromProto(j.end_time()) : now;
    *j.mutable_duration() = ToProto(end - FromProto(j.start_time()));
  }
  if (r.has_active_since()) {
    *j.mutable_active_time() =
        ToProto(FromProto(j.active_time()) + now - FromProto(r.active_since()));
  }
  if (r.has_paused_since()) {
    *j.mutable_paused_time() =
        ToProto(FromProto(j.paused_time()) + now - FromProto(r.paused_since()));
  }
  return j;
}

}  // namespace trainyard::jobs
