// Copyright 2026 Trainyard authors.
#include "services/jobs/domain/transition_builder.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "google/protobuf/util/message_differencer.h"

namespace trainyard::jobs {
namespace {

using common::v1::JobState;

bool AlwaysNotified(common::v1::NotificationTrigger trigger) {
  switch (trigger) {
    case common::v1::NOTIFICATION_TRIGGER_JOB_COMPLETED:
    case common::v1::NOTIFICATION_TRIGGER_JOB_FAILED:
    case common::v1::NOTIFICATION_TRIGGER_JOB_CANCELLED:
    case common::v1::NOTIFICATION_TRIGGER_BUDGET_EXCEEDED:
      return true;
    default:
      return false;
  }
}

std::string Etag(const internal::JobRecord& r) {
  return absl::StrCat("s", r.job().state(), "a", r.job().attempt(), "r",
                      r.spec_revision());
}

}  // namespace

std::string UriPrefix(std::string_view uri) {
  size_t slash = uri.rfind('/');
  if (slash == std::string_view::npos || slash < uri.find("://") + 3) {
    return std::string(uri);
  }
  return std::string(uri.substr(0, slash));
}

TransitionBuilder::TransitionBuilder(const LifecycleOptions& options,
                                     const internal::JobRecord& record,
                                     absl::Time now)
    : options_(options), now_(now) {
  t_.record = record;
}

std::string TransitionBuilder::RequestId(std::string_view op) const {
  return absl::StrCat(t_.record.job().job_id(), "/", attempt(), "/",
                      ToAbsl(op));
}

internal::Effect* TransitionBuilder::AddEffect(std::string_view op) {
  internal::Effect* e = &t_.effects.emplace_back();
  e->set_job_id(t_.record.job().job_id());
  e->set_request_id(RequestId(op));
  return e;
}

metrics::v1::LifecyclePayload* TransitionBuilder::SetState(
    JobState to, const Actor& actor, std::string_view reason,
    std::string message) {
  v1::Job& j = job();
  const JobState from = j.state();
  j.set_state(to);
  *j.mutable_state_change_time() = ToProto(now_);
  *j.mutable_update_time() = ToProto(now_);
  j.set_state_message(message);
  if (IsTerminal(to)) *j.mutable_end_time() = ToProto(now_);

  internal::Effect* e = AddEffect("event");
  metrics::v1::IngestEvent* ev = e->mutable_event();
  const int64_t n = std::max<int64_t>(t_.record.next_event_n(), 1);
  t_.record.set_next_event_n(n + 1);
  e->set_request_id(absl::StrCat("jc_", n));
  ev->set_job_id(j.job_id());
  ev->set_event_id(absl::StrCat("jc_", n));
  ev->set_type(common::v1::EVENT_TYPE_STATUS);
  ev->set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  ev->set_attempt(j.attempt());
  *ev->mutable_occurred_time() = ToProto(now_);
  ev->set_message(std::move(message));
  metrics::v1::LifecyclePayload* p = ev->mutable_lifecycle();
  p->set_job_state(to);
  p->set_previous_state(from);
  *p->mutable_actor() = actor.user;
  p->set_actor_role(actor.role);
  p->set_reason(std::string(reason));
  return p;
}

void TransitionBuilder::Note(common::v1::EventType type, std::string message) {
  internal::Effect* e = AddEffect("event");
  const int64_t n = std::max<int64_t>(t_.record.next_event_n(), 1);
  t_.record.set_next_event_n(n + 1);
  e->set_request_id(absl::StrCat("jc_", n));
  metrics::v1::IngestEvent* ev = e->mutable_event();
  ev->set_job_id(job().job_id());
  ev->set_event_id(absl::StrCat("jc_", n));
  ev->set_type(type);
  ev->set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  ev->set_attempt(attempt());
  *ev->mutable_occurred_time() = ToProto(now_);
  ev->set_message(std::move(message));
}

v1::AuditEntry* TransitionBuilder::Audit(v1::AuditAction action,
                                         const Actor& actor, JobState from,
                                         std::string_view reason) {
  v1::AuditEntry* a = &t_.audit.emplace_back();
  a->set_job_id(job().job_id());
  *a->mutable_time() = ToProto(now_);
  *a->mutable_actor() = actor.user;
  a->set_actor_role(actor.role);
  a->set_action(action);
  a->set_from_state(from);
  a->set_to_state(state());
  a->set_reason(std::string(reason));
  a->set_request_id(actor.request_id);
  return a;
}

void TransitionBuilder::Notify(common::v1::NotificationTrigger trigger,
                               std::string text) {
  const auto& triggers = job().spec().notification_triggers();
  if (!AlwaysNotified(trigger) &&
      std::find(triggers.begin(), triggers.end(), trigger) == triggers.end()) {
    return;
  }
  internal::Effect* e = AddEffect(
      absl::StrCat("notify/", trigger, "/", t_.record.next_event_n()));
  e->mutable_notify()->set_trigger(trigger);
  e->mutable_notify()->set_text(std::move(text));
  *e->mutable_notify()->mutable_time() = ToProto(now_);
}

void TransitionBuilder::CreatePod() {
  internal::PodState& pod = *t_.record.mutable_pod();
  pod.set_name(PodName(job().job_id(), attempt()));
  pod.set_create_pending(true);
  const auto& c = job().spec().config();
  internal::CreatePodEffect* e = AddEffect("create_pod")->mutable_create_pod();
  e->set_name(pod.name());
  e->set_attempt(attempt());
  e->set_gpu_type(c.gpu_type());
  e->set_gpu_count(c.gpu_count());
  e->set_pricing(c.pricing());
  e->set_resume_step(t_.record.resume_step());
}

void TransitionBuilder::DeletePod() {
  internal::PodState& pod = *t_.record.mutable_pod();
  if (pod.name().empty()) return;  // this attempt never asked for a pod
  pod.set_delete_requested(true);
  internal::PodEffect* e = AddEffect("delete_pod")->mutable_delete_pod();
  e->set_pod_id(pod.pod_id());
  e->set_name(pod.name());
}

void TransitionBuilder::StopPod() {
  const internal::PodState& pod = t_.record.pod();
  internal::PodEffect* e = AddEffect("stop_pod")->mutable_stop_pod();
  e->set_pod_id(pod.pod_id());
  e->set_name(pod.name());
}

void TransitionBuilder::PollPod() {
  if (t_.record.pod().pod_id().empty()) return;
  AddEffect("poll_pod")
      ->mutable_poll_pod()
      ->set_pod_id(t_.record.pod().pod_id());
}

void TransitionBuilder::Enqueue() {
  const v1::Job& j = job();
  scheduler::v1::EnqueueRequest* e = AddEffect("enqueue")->mutable_enqueue();
  e->set_request_id(RequestId("enqueue"));
  e->set_job_id(j.job_id());
  e->set_display_name(j.spec().display_name());
  *e->mutable_created_by() = j.created_by();
  *e->mutable_create_time() = j.create_time();
  *e->mutable_config() = j.spec().config();
  e->set_attempt(j.attempt());
  // The queue positions only the scheduler knows; job-control notifies the
  // lifecycle ones itself (provisioning and training started included), so
  // they are not the scheduler's to send again.
  for (int t : j.spec().notification_triggers()) {
    if (t == common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_THREE ||
        t == common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_ONE) {
      e->add_notification_triggers(
          static_cast<common::v1::NotificationTrigger>(t));
    }
  }
  if (e->notification_triggers_size() > 0) {
    *e->mutable_notification_targets() = j.spec().notification_targets();
  }
}

void TransitionBuilder::RemoveFromQueue(std::string_view reason) {
  scheduler::v1::RemoveFromQueueRequest* e =
      AddEffect("remove_from_queue")->mutable_remove_from_queue();
  e->set_job_id(job().job_id());
  e->set_reason(std::string(reason));
}

void TransitionBuilder::ReleaseSlot(scheduler::v1::SlotOutcome outcome) {
  scheduler::v1::ReleaseSlotRequest* e =
      AddEffect(absl::StrCat("release_slot/", outcome))->mutable_release_slot();
  e->set_job_id(job().job_id());
  e->set_attempt(attempt());
  e->set_outcome(outcome);
}

void TransitionBuilder::RegisterCost(int64_t from_step) {
  const v1::Job& j = job();
  cost::v1::RegisterJobRequest* e =
      AddEffect("register")->mutable_register_job();
  e->set_job_id(j.job_id());
  e->set_display_name(j.spec().display_name());
  *e->mutable_created_by() = j.created_by();
  *e->mutable_config() = j.spec().config();
  if (j.spec().has_budget()) *e->mutable_budget() = j.spec().budget();
  e->set_from_step(from_step);
}

void TransitionBuilder::FinalizeCost(JobState final_state) {
  cost::v1::FinalizeJobCostRequest* e =
      AddEffect("finalize")->mutable_finalize_cost();
  e->set_job_id(job().job_id());
  e->set_final_state(final_state);
  *e->mutable_end_time() = ToProto(now_);
}

void TransitionBuilder::SetBudget() {
  cost::v1::SetJobBudgetRequest* e =
      AddEffect(absl::StrCat("set_budget/", t_.record.spec_revision()))
          ->mutable_set_budget();
  e->set_job_id(job().job_id());
  if (job().spec().has_budget()) *e->mutable_budget() = job().spec().budget();
}

void TransitionBuilder::PurgeData() {
  AddEffect("metrics_delete")
      ->mutable_metrics_delete()
      ->set_job_id(job().job_id());
  AddEffect("cost_delete")->mutable_cost_delete()->set_job_id(job().job_id());
}

void TransitionBuilder::OpenMeter(common::v1::CostPhase phase,
                                  std::optional<absl::Time> start) {
  const absl::Time from = start ? std::min(*start, now_) : now_;
  internal::OpenMeterRef* ref = t_.record.add_meters();
  ref->set_phase(phase);
  ref->set_attempt(attempt());
  internal::OpenMeterEffect* e =
      AddEffect(absl::StrCat("open_meter/", phase))->mutable_open_meter();
  e->set_attempt(attempt());
  e->set_phase(phase);
  *e->mutable_start_time() = ToProto(from);
  if (phase == common::v1::COST_PHASE_PAUSED_STORAGE) {
    e->set_storage_bytes(
        std::max<int64_t>(t_.record.last_checkpoint().size_bytes(), 1));
    return;
  }
  const auto& c = job().spec().config();
  e->set_gpu_type(c.gpu_type());
  e->set_gpu_count(c.gpu_count());
  e->set_pricing(c.pricing());
  e->set_pod_id(t_.record.pod().pod_id());
  if (!t_.record.has_active_since()) {
    *t_.record.mutable_active_since() = ToProto(from);
  }
}

common::v1::CostPhase TransitionBuilder::ComputePhase() const {
  for (int i = t_.record.meters_size() - 1; i >= 0; --i) {
    const auto& m = t_.record.meters(i);
    if (m.attempt() != attempt()) continue;
    if (m.phase() == common::v1::COST_PHASE_ACTIVE_COMPUTE ||
        m.phase() == common::v1::COST_PHASE_RECOVERY_OVERHEAD) {
      return m.phase();
    }
  }
  return common::v1::COST_PHASE_UNSPECIFIED;
}

void TransitionBuilder::CloseCompute(cost::v1::MeterCloseReason reason,
                                     absl::Time end) {
  end = std::min(end, now_);
  if (t_.record.has_active_since()) {
    end = std::max(end, FromProto(t_.record.active_since()));
    absl::Duration active = FromProto(job().active_time()) +
                            std::max(absl::ZeroDuration(),
                                     end - FromProto(t_.record.active_since()));
    *job().mutable_active_time() = ToProto(active);
    t_.record.clear_active_since();
  }
  const common::v1::CostPhase phase = ComputePhase();
  if (phase == common::v1::COST_PHASE_UNSPECIFIED) return;
  internal::CloseMeterEffect* e =
      AddEffect(absl::StrCat("close_meter/", phase))->mutable_close_meter();
  e->set_attempt(attempt());
  e->set_phase(phase);
  e->set_reason(reason);
  *e->mutable_end_time() = ToProto(end);
  if (reason == cost::v1::METER_CLOSE_REASON_INTERRUPTED ||
      reason == cost::v1::METER_CLOSE_REASON_PAUSED) {
    e->set_last_checkpoint_step(t_.record.last_checkpoint().step());
  }
}

void TransitionBuilder::ClosePausedStorage(cost::v1::MeterCloseReason reason) {
  for (int i = t_.record.meters_size() - 1; i >= 0; --i) {
    const auto& m = t_.record.meters(i);
    if (m.phase() != common::v1::COST_PHASE_PAUSED_STORAGE) continue;
    internal::Effect* effect = AddEffect("close_storage");
    // The storage meter belongs to the attempt that paused.
    effect->set_request_id(
        absl::StrCat(job().job_id(), "/", m.attempt(), "/close_storage"));
    internal::CloseMeterEffect* e = effect->mutable_close_meter();
    e->set_attempt(m.attempt());
    e->set_phase(m.phase());
    e->set_reason(reason);
    *e->mutable_end_time() = ToProto(now_);
    return;
  }
}

void TransitionBuilder::Fail(std::string_view code, std::string message,
                             std::string details, common::v1::Stage stage,
                             std::optional<absl::Time> end) {
  const JobState from = state();
  DeletePod();
  CloseCompute(cost::v1::METER_CLOSE_REASON_FAILED, end.value_or(now_));
  ReleaseSlot(scheduler::v1::SLOT_OUTCOME_FAILED);
  v1::FailureInfo* f = job().mutable_failure();
  f->Clear();
  f->set_stage(stage);
  f->set_code(std::string(code));
  f->set_message(message);
  f->set_details(std::move(details));
  *f->mutable_time() = ToProto(now_);
  f->set_attempt(attempt());
  // Retry from the failed stage or an earlier one; before preprocessing (no
  // stage), from the start.
  const int last = stage == common::v1::STAGE_UNSPECIFIED
                       ? common::v1::STAGE_PREPROCESSING
                       : stage;
  for (int s = common::v1::STAGE_PREPROCESSING; s <= last; ++s) {
    f->add_retryable_from(static_cast<common::v1::Stage>(s));
  }
  SetState(common::v1::JOB_STATE_FAILED, SystemActor(), code,
           absl::StrCat("Failed: ", message));
  FinalizeCost(common::v1::JOB_STATE_FAILED);
  Audit(v1::AUDIT_ACTION_FAILED, SystemActor(), from, code);
  Notify(common::v1::NOTIFICATION_TRIGGER_JOB_FAILED,
         absl::StrCat("Job ", job().spec().display_name(), " failed (",
                      ToAbsl(code), "): ", message));
}

void TransitionBuilder::NextAttempt(int64_t resume_step) {
  job().set_attempt(attempt() + 1);
  t_.record.clear_pod();
  t_.record.set_resume_step(resume_step);
  t_.record.set_finalization_done(false);
  t_.record.clear_stall_since();
  t_.record.clear_next_create_time();
  t_.record.clear_create_backoff();
  t_.record.set_exit_waits_for_job_seq(0);
}

Transition TransitionBuilder::Finish(const internal::JobRecord& before) && {
  job().set_etag(Etag(t_.record));
  t_.changed =
      !t_.effects.empty() || !t_.audit.empty() ||
      !google::protobuf::util::MessageDifferencer::Equals(before, t_.record);
  return std::move(t_);
}

}  // namespace trainyard::jobs
