// Copyright 2026 Trainyard authors.
//
// The building blocks of a transition, shared by the lifecycle's handlers: a
// state change with its lifecycle event, audit entry and notifications, and the
// effects (pods, meters, slots, cost) with their idempotency keys. Internal to
// domain/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "services/jobs/domain/lifecycle.h"

namespace trainyard::jobs {

class TransitionBuilder {
 public:
  TransitionBuilder(const LifecycleOptions& options,
                    const internal::JobRecord& record, absl::Time now);

  internal::JobRecord& record() { return t_.record; }
  v1::Job& job() { return *t_.record.mutable_job(); }
  common::v1::JobState state() const { return t_.record.job().state(); }
  int32_t attempt() const { return t_.record.job().attempt(); }
  absl::Time now() const { return now_; }
  const LifecycleOptions& options() const { return options_; }

  // Moves the job to `to` (state_change_time, etag), writes the lifecycle
  // event (STATUS, CONTROL_PLANE) with `message`, and returns the event's
  // payload for extra fields. Does not audit: see Audit().
  metrics::v1::LifecyclePayload* SetState(common::v1::JobState to,
                                          const Actor& actor,
                                          std::string_view reason,
                                          std::string message);
  // A control-plane WARNING or INFO event with a message.
  void Note(common::v1::EventType type, std::string message);
  // Appends an audit entry and returns it for extra fields.
  v1::AuditEntry* Audit(v1::AuditAction action, const Actor& actor,
                        common::v1::JobState from, std::string_view reason);
  // A notification, if `trigger` is always sent (completed, failed,
  // cancelled, budget exceeded) or the spec opted in.
  void Notify(common::v1::NotificationTrigger trigger, std::string text);

  // ---- effects ----
  void CreatePod();  // the current attempt's pod
  void DeletePod();  // by id, or by name when unknown
  void StopPod();
  void PollPod();
  void Enqueue();
  void RemoveFromQueue(std::string_view reason);
  void ReleaseSlot(scheduler::v1::SlotOutcome outcome);
  void RegisterCost(int64_t from_step);
  void FinalizeCost(common::v1::JobState final_state);
  void SetBudget();
  void PurgeData();
  // Opens a meter of `phase` for the current attempt (compute: the pod's
  // hardware; storage: the checkpoint's bytes), billed from `start` (the
  // provider's pod creation time; never later than now), else from now.
  void OpenMeter(common::v1::CostPhase phase,
                 std::optional<absl::Time> start = std::nullopt);
  // Closes the attempt's open compute meter, if any, at `end`, and stops
  // counting active time. `end` is clamped to [active since, now].
  void CloseCompute(cost::v1::MeterCloseReason reason, absl::Time end);
  // Closes the paused-storage meter of the last pause, if any.
  void ClosePausedStorage(cost::v1::MeterCloseReason reason);
  // The phase of the attempt's newest compute meter; UNSPECIFIED if none.
  common::v1::CostPhase ComputePhase() const;

  // FAILED with `code`: delete the pod, close the meter, release the slot
  // (FAILED), finalize the cost, event, audit, notification. The meter
  // closes at `end` (when the pod stopped, if known), else now.
  void Fail(std::string_view code, std::string message, std::string details,
            common::v1::Stage stage,
            std::optional<absl::Time> end = std::nullopt);

  // Starts a new attempt's record keeping (attempt + 1, fresh pod state).
  void NextAttempt(int64_t resume_step);

  Transition Finish(const internal::JobRecord& before) &&;

 private:
  internal::Effect* AddEffect(std::string_view op);
  std::string RequestId(std::string_view op) const;

  const LifecycleOptions& options_;
  const absl::Time now_;
  Transition t_;
};

// "s3://b/job/ckpt-800" -> "s3://b/job".
std::string UriPrefix(std::string_view uri);

}  // namespace trainyard::jobs
