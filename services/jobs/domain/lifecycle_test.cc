// Copyright 2026 Trainyard authors.
//
// One test (or more) per row of orchestration.md's lifecycle table and per
// bullet rule under it, on a fake clock.
#include "services/jobs/domain/lifecycle.h"

#include <string>
#include <vector>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/domain/copies.h"
#include "services/jobs/domain/job_spec.h"

namespace trainyard::jobs {
namespace {

using common::v1::JobState;
using internal::Effect;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using trainyard::testing::StatusIs;
using K = Effect::KindCase;
using Phase = PodObservation::Phase;

class LifecycleTest : public ::testing::Test {
 protected:
  void Create(common::v1::Pricing pricing = common::v1::PRICING_SPOT) {
    v1::JobSpec spec;
    spec.set_display_name("bot");
    auto* c = spec.mutable_config();
    c->set_base_model("m");
    c->mutable_dataset()->set_uri("s3://d");
    c->mutable_dataset()->set_conversations(10000);
    c->set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
    c->set_pricing(pricing);
    spec.add_notification_triggers(
        common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED);
    auto normalized = NormalizeSpec(spec, SpecDefaults{}, "spec");
    ASSERT_TRUE(normalized.ok());
    Actor ana;
    ana.user.set_user_id("ana");
    ana.role = common::v1::ROLE_ENGINEER;
    last_ = NewJob("j1", *normalized, ana, clock_.Now());
    rec_ = last_.record;
  }

  Transition Do(const Input& in) {
    auto t = Apply(options_, rec_, in, clock_.Now());
    EXPECT_TRUE(t.ok()) << t.status();
    if (t.ok()) {
      rec_ = t->record;
      last_ = *t;
    }
    return last_;
  }
  absl::Status Try(const Input& in) {
    auto t = Apply(options_, rec_, in, clock_.Now());
    if (t.ok()) {
      rec_ = t->record;
      last_ = *t;
    }
    return t.status();
  }

  JobState state() const { return rec_.job().state(); }
  int attempt() const { return rec_.job().attempt(); }

  std::vector<K> Kinds() const {
    std::vector<K> out;
    for (const Effect& e : last_.effects) {
      if (e.kind_case() != Effect::kEvent && e.kind_case() != Effect::kNotify) {
        out.push_back(e.kind_case());
      }
    }
    return out;
  }
  const Effect* Find(K kind) const {
    for (const Effect& e : last_.effects) {
      if (e.kind_case() == kind) return &e;
    }
    return nullptr;
  }
  std::vector<std::string> EventMessages() const {
    std::vector<std::string> out;
    for (const Effect& e : last_.effects) {
      if (e.has_event()) out.push_back(e.event().message());
    }
    return out;
  }
  bool Notified(common::v1::NotificationTrigger t) const {
    for (const Effect& e : last_.effects) {
      if (e.has_notify() && e.notify().trigger() == t) return true;
    }
    return false;
  }

  // ---- inputs ----
  void Assign() {
    AssignmentInput in;
    in.assignment.set_job_id("j1");
    in.assignment.set_attempt(attempt());
    Do(in);
  }
  void Created(std::string pod_id = "") {
    CreatePodResult r;
    r.attempt = attempt();
    r.pod_id = pod_id.empty() ? absl::StrCat("pod-", attempt()) : pod_id;
    Do(r);
  }
  void Observe(Phase phase, std::string reason = "", uint64_t latest = 0) {
    PodObservation o;
    o.pod_id = rec_.pod().pod_id();
    o.phase = phase;
    o.exit_reason = std::move(reason);
    o.latest_job_seq = latest;
    Do(o);
  }
  metrics::v1::Event Container(common::v1::EventType type) {
    metrics::v1::Event e;
    e.set_job_id("j1");
    e.set_type(type);
    e.set_source(common::v1::EVENT_SOURCE_CONTAINER);
    e.set_attempt(attempt());
    e.set_job_seq(++seq_);
    *e.mutable_occurred_time() = ToProto(clock_.Now());
    return e;
  }
  void Status(common::v1::Stage stage, double progress = 0,
              std::optional<int64_t> resumed = std::nullopt) {
    auto e = Container(common::v1::EVENT_TYPE_STATUS);
    e.mutable_status()->set_stage(stage);
    e.mutable_status()->set_stage_progress(progress);
    if (resumed) e.mutable_status()->set_resumed_from_step(*resumed);
    Do(EventInput{e});
  }
  void Checkpoint(int64_t step) {
    auto e = Container(common::v1::EVENT_TYPE_CHECKPOINT);
    e.mutable_checkpoint()->set_step(step);
    e.mutable_checkpoint()->set_uri(absl::StrCat("s3://b/j1/ckpt-", step));
    e.mutable_checkpoint()->set_size_bytes(160'000'000);
    Do(EventInput{e});
  }
  void Error(std::string code) {
    auto e = Container(common::v1::EVENT_TYPE_ERROR);
    e.mutable_error()->set_code(code);
    e.mutable_error()->set_message("CUDA out of memory");
    Do(EventInput{e});
  }
  void Stall(common::v1::StallReason reason, bool cleared = false) {
    metrics::v1::Event e;
    e.set_job_id("j1");
    e.set_type(cleared ? common::v1::EVENT_TYPE_INFO
                       : common::v1::EVENT_TYPE_WARNING);
    e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
    e.set_attempt(attempt());
    e.set_job_seq(++seq_);
    e.set_message("stalled");
    e.mutable_stall()->set_reason(reason);
    e.mutable_stall()->set_cleared(cleared);
    Do(EventInput{e});
  }
  void Tick(absl::Duration d) {
    clock_.Advance(d);
    Do(TimerTick{});
  }
  static CancelCommand CancelBy(std::string user) {
    CancelCommand c;
    c.actor.user.set_user_id(user);
    c.actor.role = common::v1::ROLE_ENGINEER;
    c.reason = v1::CANCEL_REASON_COST_TOO_HIGH;
    c.notes = "too slow";
    return c;
  }
  static PauseCommand PauseBy(std::string user) {
    PauseCommand p;
    p.actor.user.set_user_id(user);
    return p;
  }

  // Drives the job to TRAINING on pod "pod-1".
  void ToTraining(common::v1::Pricing pricing = common::v1::PRICING_SPOT) {
    Create(pricing);
    Assign();
    Created();
    Observe(Phase::kRunning);
    Status(common::v1::STAGE_PREPROCESSING);
    Status(common::v1::STAGE_MODEL_LOADING);
    Status(common::v1::STAGE_TRAINING);
    ASSERT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  }

  FakeClock clock_;
  LifecycleOptions options_;
  internal::JobRecord rec_;
  Transition last_;
  uint64_t seq_ = 0;
};

TEST_F(LifecycleTest, CreateQueuesRegistersCostEnqueuesAndLogsQueued) {
  Create();
  EXPECT_EQ(state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(attempt(), 1);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kRegisterJob, Effect::kEnqueue));
  EXPECT_EQ(Find(Effect::kRegisterJob)->request_id(), "j1/1/register");
  EXPECT_EQ(Find(Effect::kEnqueue)->enqueue().request_id(), "j1/1/enqueue");
  const auto& ev = Find(Effect::kEvent)->event();
  EXPECT_EQ(ev.event_id(), "jc_1");
  EXPECT_EQ(ev.lifecycle().job_state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(ev.lifecycle().total_steps(), 1500);
  ASSERT_EQ(last_.audit.size(), 1u);
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_CREATED);
  EXPECT_FALSE(rec_.job().etag().empty());
}

TEST_F(LifecycleTest, AssignmentProvisionsThePodNamedByAttempt) {
  Create();
  Assign();
  EXPECT_EQ(state(), common::v1::JOB_STATE_PROVISIONING);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kCreatePod));
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().name(), "j1-a1");
  EXPECT_EQ(Find(Effect::kEvent)->event().event_id(), "jc_2");
  EXPECT_TRUE(rec_.job().has_start_time());
  // A duplicate assignment changes nothing.
  Assign();
  EXPECT_FALSE(last_.changed);
  // The pod is created: the ACTIVE meter opens with its id.
  Created("pod-x");
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kOpenMeter));
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().phase(),
            common::v1::COST_PHASE_ACTIVE_COMPUTE);
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().pod_id(), "pod-x");
}

TEST_F(LifecycleTest, Provider400FailsProvisioningWithNoStage) {
  Create();
  Assign();
  CreatePodResult r;
  r.attempt = 1;
  r.outcome = CreatePodResult::Outcome::kRejected;
  r.message = "gpu: unknown type";
  Do(r);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "PROVISIONING_FAILED");
  EXPECT_EQ(rec_.job().failure().stage(), common::v1::STAGE_UNSPECIFIED);
  EXPECT_THAT(rec_.job().failure().retryable_from(),
              ElementsAre(common::v1::STAGE_PREPROCESSING));
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kReleaseSlot, Effect::kFinalizeCost));
  EXPECT_EQ(Find(Effect::kReleaseSlot)->release_slot().outcome(),
            scheduler::v1::SLOT_OUTCOME_FAILED);
}

TEST_F(LifecycleTest, Provider429BacksOffKeepsSlotAndRetriesTheSameName) {
  Create();
  Assign();
  CreatePodResult r;
  r.attempt = 1;
  r.outcome = CreatePodResult::Outcome::kRetryable;
  r.retry_after = absl::Seconds(7);
  Do(r);
  EXPECT_EQ(state(), common::v1::JOB_STATE_PROVISIONING);
  EXPECT_THAT(Kinds(), IsEmpty());  // no release: the slot is kept
  EXPECT_EQ(NextTimer(options_, rec_), clock_.Now() + absl::Seconds(7));
  Tick(absl::Seconds(6));
  EXPECT_THAT(Kinds(), IsEmpty());
  Tick(absl::Seconds(1));
  // Lost create answer: the retry asks for the same name, so the client
  // adopts the pod a first create may have made.
  ASSERT_THAT(Kinds(), ElementsAre(Effect::kCreatePod));
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().name(), "j1-a1");
  // 5xx without Retry-After: 30 s, then 60 s.
  r.retry_after = absl::ZeroDuration();
  Do(r);
  EXPECT_EQ(NextTimer(options_, rec_), clock_.Now() + absl::Seconds(30));
  Tick(absl::Seconds(30));
  Do(r);
  EXPECT_EQ(NextTimer(options_, rec_), clock_.Now() + absl::Seconds(60));
  // Past --provision_timeout without a pod: NO_CAPACITY.
  Tick(absl::Minutes(30));
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "NO_CAPACITY");
  EXPECT_NE(Find(Effect::kReleaseSlot), nullptr);
}

TEST_F(LifecycleTest, StartTimeoutFailsWhenTheRunningPodStaysSilent) {
  Create();
  Assign();
  Created();
  Observe(Phase::kRunning);
  Tick(absl::Minutes(14));
  EXPECT_EQ(state(), common::v1::JOB_STATE_PROVISIONING);
  Tick(absl::Minutes(1));
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "START_TIMEOUT");
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kDeletePod, Effect::kCloseMeter,
                          Effect::kReleaseSlot, Effect::kFinalizeCost));
}

TEST_F(LifecycleTest, StatusOfTheCurrentAttemptMovesToItsStage) {
  ToTraining();
  EXPECT_TRUE(Notified(common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED));
  // Not the container's "Training epoch 1/4 - Step 0/8000...", which the
  // job's progress leaves behind at once.
  EXPECT_EQ(rec_.job().state_message(), "Training started");
  Status(common::v1::STAGE_FINALIZATION, 50);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FINALIZING);
}

TEST_F(LifecycleTest, R_STAGE_06_ErrorFailsWithItsCodeAndStage) {
  ToTraining();
  Error("CUDA_OOM");
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  const auto& f = rec_.job().failure();
  EXPECT_EQ(f.code(), "CUDA_OOM");
  EXPECT_EQ(f.stage(), common::v1::STAGE_TRAINING);
  EXPECT_THAT(f.retryable_from(), ElementsAre(common::v1::STAGE_PREPROCESSING,
                                              common::v1::STAGE_MODEL_LOADING,
                                              common::v1::STAGE_TRAINING));
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kDeletePod, Effect::kCloseMeter,
                          Effect::kReleaseSlot, Effect::kFinalizeCost));
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().reason(),
            cost::v1::METER_CLOSE_REASON_FAILED);
  EXPECT_TRUE(Notified(common::v1::NOTIFICATION_TRIGGER_JOB_FAILED));
}

TEST_F(LifecycleTest, PodExitedFailedWithoutErrorIsContainerFailed) {
  ToTraining();
  Observe(Phase::kExited, "failed", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "CONTAINER_FAILED");
}

TEST_F(LifecycleTest, CompletesOnlyWithTheFinalStatusAndTheCompletedExit) {
  ToTraining();
  Checkpoint(1500);
  Status(common::v1::STAGE_FINALIZATION, 100);
  // The exit is seen before the events stream passed the job's latest
  // job_seq: it waits.
  Observe(Phase::kExited, "completed", seq_ + 1);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FINALIZING);
  EXPECT_THAT(Kinds(), IsEmpty());
  Observe(Phase::kExited, "completed", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_COMPLETED);
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kDeletePod, Effect::kCloseMeter,
                          Effect::kFinalizeCost, Effect::kReleaseSlot));
  EXPECT_EQ(Find(Effect::kReleaseSlot)->release_slot().outcome(),
            scheduler::v1::SLOT_OUTCOME_COMPLETED);
  EXPECT_EQ(rec_.job().artifacts(0).kind(), v1::ARTIFACT_KIND_ADAPTER);
  EXPECT_EQ(rec_.job().artifacts(0).uri(), "s3://b/j1/adapter_model.bin");
  EXPECT_TRUE(rec_.job().has_end_time());
}

TEST_F(LifecycleTest, CompletedExitWithoutTheFinalStatusFails) {
  ToTraining();
  Status(common::v1::STAGE_FINALIZATION, 60);
  Observe(Phase::kExited, "completed", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "CONTAINER_FAILED");
}

TEST_F(LifecycleTest, R_STAGE_05_SpotInterruptionRecoversFromTheCheckpoint) {
  ToTraining();
  Checkpoint(800);
  Observe(Phase::kExited, "interrupted", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
  EXPECT_EQ(attempt(), 2);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kDeletePod, Effect::kCloseMeter,
                                   Effect::kCreatePod));
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().reason(),
            cost::v1::METER_CLOSE_REASON_INTERRUPTED);
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().last_checkpoint_step(),
            800);
  EXPECT_EQ(Find(Effect::kDeletePod)->delete_pod().pod_id(), "pod-1");
  const auto& create = Find(Effect::kCreatePod)->create_pod();
  EXPECT_EQ(create.name(), "j1-a2");
  EXPECT_EQ(create.resume_step(), 800);
  EXPECT_EQ(create.pricing(), common::v1::PRICING_SPOT);
  // Recovery time is billed as RECOVERY.
  Created();
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().phase(),
            common::v1::COST_PHASE_RECOVERY_OVERHEAD);
  Status(common::v1::STAGE_TRAINING, 0, 800);
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().phase(),
            common::v1::COST_PHASE_ACTIVE_COMPUTE);
  EXPECT_THAT(EventMessages(), ElementsAre("Resumed from step 800"));
}

TEST_F(LifecycleTest, NotFoundOrUnaskedTerminationOfSpotRecoversToo) {
  ToTraining();
  Observe(Phase::kNotFound);
  EXPECT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().resume_step(), 0);
  Created();
  Observe(Phase::kTerminated);
  EXPECT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
  EXPECT_EQ(attempt(), 3);
}

TEST_F(LifecycleTest, TooManyInterruptionsFailPreemptedTooOften) {
  options_.max_recoveries = 2;
  ToTraining();
  for (int i = 0; i < 2; ++i) {
    Observe(Phase::kExited, "interrupted", seq_);
    ASSERT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
    Created();
  }
  Observe(Phase::kExited, "interrupted", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "PREEMPTED_TOO_OFTEN");
}

TEST_F(LifecycleTest, OnDemandInterruptionIsProviderFailure) {
  ToTraining(common::v1::PRICING_ON_DEMAND);
  Observe(Phase::kExited, "interrupted", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "PROVIDER_FAILURE");
  EXPECT_NE(Find(Effect::kReleaseSlot), nullptr);
  EXPECT_NE(Find(Effect::kCloseMeter), nullptr);
}

TEST_F(LifecycleTest,
       R_X_07_HeartbeatStallPollsThePodAndFailsAfterStallTimeout) {
  ToTraining();
  Stall(common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kPollPod));
  Observe(Phase::kRunning);
  Tick(absl::Minutes(29));
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  Tick(absl::Minutes(1));
  EXPECT_EQ(state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(rec_.job().failure().code(), "STALL_TIMEOUT");
}

TEST_F(LifecycleTest, R_X_07_AnyContainerEventEndsTheStall) {
  ToTraining();
  Stall(common::v1::STALL_REASON_SUSPECTED_PREEMPTION);
  Tick(absl::Minutes(20));
  Checkpoint(100);
  Tick(absl::Minutes(20));
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
}

TEST_F(LifecycleTest, R_X_07_SpeedDropIsShownNotActedOn) {
  ToTraining();
  Stall(common::v1::STALL_REASON_SPEED_DROP);
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  EXPECT_THAT(Kinds(), IsEmpty());
  Tick(absl::Hours(2));
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
}

TEST_F(LifecycleTest, R_PAUSE_01_PauseOnlyFromTraining) {
  Create();
  EXPECT_THAT(Try(PauseBy("ana")),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::HasSubstr("QUEUED")));
  EXPECT_EQ(ErrorReason(Try(PauseBy("ana"))), "JOB_NOT_TRAINING");
}

TEST_F(LifecycleTest, R_PAUSE_01_PausedAtTheStopCheckpointWithItsCard) {
  ToTraining();
  Checkpoint(800);
  clock_.Advance(absl::Minutes(5));
  Do(PauseBy("ana"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSING);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kStopPod));
  EXPECT_EQ(Find(Effect::kStopPod)->stop_pod().pod_id(), "pod-1");
  Checkpoint(850);  // the SIGTERM checkpoint
  Observe(Phase::kExited, "stopped", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSED);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kDeletePod, Effect::kCloseMeter,
                                   Effect::kReleaseSlot, Effect::kOpenMeter));
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().reason(),
            cost::v1::METER_CLOSE_REASON_PAUSED);
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().phase(),
            common::v1::COST_PHASE_PAUSED_STORAGE);
  EXPECT_EQ(Find(Effect::kOpenMeter)->open_meter().storage_bytes(),
            160'000'000);
  EXPECT_EQ(Find(Effect::kReleaseSlot)->release_slot().outcome(),
            scheduler::v1::SLOT_OUTCOME_PAUSED);
  const auto& p = rec_.job().pause();
  EXPECT_EQ(p.paused_at_step(), 850);
  EXPECT_NEAR(p.percent(), 100.0 * 850 / 1500, 1e-9);
  EXPECT_EQ(p.paused_by().user_id(), "ana");
  EXPECT_EQ(FromProto(p.active_training_time()), absl::Minutes(5));
  // 0.16 GB x $0.20 per GB-month.
  EXPECT_EQ(p.storage_cost_per_month().micros(), 32000);
}

TEST_F(LifecycleTest, R_PAUSE_01_PauseTimeoutPausesAtTheLastCheckpoint) {
  ToTraining();
  Checkpoint(700);
  Do(PauseBy("ana"));
  Tick(absl::Minutes(10));
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSED);
  EXPECT_EQ(rec_.job().pause().paused_at_step(), 700);
  EXPECT_NE(Find(Effect::kDeletePod), nullptr);
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().last_checkpoint_step(),
            700);
}

TEST_F(LifecycleTest, R_PAUSE_02_ResumeRequeuesAsANewAttemptFromTheCheckpoint) {
  ToTraining();
  const auto create_time = rec_.job().create_time();
  Checkpoint(800);
  Do(PauseBy("ana"));
  Observe(Phase::kExited, "stopped", seq_);
  EXPECT_EQ(ErrorReason(Try(RetryCommand{})), "JOB_NOT_FAILED");
  ResumeCommand resume;
  resume.actor.user.set_user_id("ana");
  resume.gpu_type = common::v1::GPU_TYPE_H100_80GB;
  clock_.Advance(absl::Hours(2));
  Do(resume);
  EXPECT_EQ(state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(attempt(), 2);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kCloseMeter, Effect::kRegisterJob,
                                   Effect::kEnqueue));
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().phase(),
            common::v1::COST_PHASE_PAUSED_STORAGE);
  EXPECT_EQ(Find(Effect::kRegisterJob)->register_job().from_step(), 800);
  const auto& enqueue = Find(Effect::kEnqueue)->enqueue();
  EXPECT_EQ(enqueue.attempt(), 2);
  EXPECT_EQ(FromProto(enqueue.create_time()), FromProto(create_time));
  EXPECT_EQ(enqueue.config().gpu_type(), common::v1::GPU_TYPE_H100_80GB);
  EXPECT_EQ(FromProto(rec_.job().paused_time()), absl::Hours(2));
  Assign();
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().resume_step(), 800);
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().name(), "j1-a2");
  EXPECT_EQ(ErrorReason(Try(ResumeCommand{})), "JOB_NOT_PAUSED");
}

TEST_F(LifecycleTest, R_PAUSE_03_ManyCyclesMakeATimeline) {
  ToTraining();
  for (int i = 1; i <= 3; ++i) {
    Checkpoint(100 * i);
    Do(PauseBy("ana"));
    Observe(Phase::kExited, "stopped", seq_);
    clock_.Advance(absl::Hours(1));
    Do(ResumeCommand{});
    Assign();
    Created();
    Status(common::v1::STAGE_TRAINING, 0, 100 * i);
    ASSERT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  }
  ASSERT_EQ(rec_.cycles_size(), 3);
  EXPECT_EQ(rec_.job().pause_cycles(), 3);
  EXPECT_EQ(rec_.cycles(2).cycle(), 3);
  EXPECT_EQ(rec_.cycles(2).paused_at_step(), 300);
  EXPECT_TRUE(rec_.cycles(2).has_resume_time());
  EXPECT_EQ(FromProto(rec_.cycles(0).paused_duration()), absl::Hours(1));
  EXPECT_EQ(FromProto(rec_.job().paused_time()), absl::Hours(3));
}

TEST_F(LifecycleTest, R_CAN_01_CancelQueuedIsImmediateAndNeedsNoGpu) {
  Create();
  Do(CancelBy("ana"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(rec_.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_NOT_NEEDED);
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kRemoveFromQueue, Effect::kFinalizeCost));
  ASSERT_EQ(last_.audit.size(), 1u);
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_CANCELLED);
  EXPECT_EQ(last_.audit[0].cancel_reason(), v1::CANCEL_REASON_COST_TOO_HIGH);
  EXPECT_EQ(last_.audit[0].notes(), "too slow");
  EXPECT_TRUE(Notified(common::v1::NOTIFICATION_TRIGGER_JOB_CANCELLED));
  // The queue had already assigned a slot: release it.
  Do(RemoveFromQueueResult{false});
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kReleaseSlot));
  EXPECT_EQ(Find(Effect::kReleaseSlot)->release_slot().outcome(),
            scheduler::v1::SLOT_OUTCOME_CANCELLED);
}

TEST_F(LifecycleTest, R_CAN_01_AnAssignmentAfterTheCancelReleasesTheSlot) {
  Create();
  Do(CancelBy("ana"));
  Assign();
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kReleaseSlot));
}

TEST_F(LifecycleTest, R_CAN_01_CancelPausedClosesStorage) {
  ToTraining();
  Do(PauseBy("ana"));
  Observe(Phase::kExited, "stopped", seq_);
  Do(CancelBy("ana"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kCloseMeter, Effect::kFinalizeCost));
  EXPECT_EQ(Find(Effect::kCloseMeter)->close_meter().phase(),
            common::v1::COST_PHASE_PAUSED_STORAGE);
}

TEST_F(LifecycleTest, R_CAN_01_TerminalJobCannotBeCancelled) {
  ToTraining();
  Error("CUDA_OOM");
  absl::Status s = Try(CancelBy("ana"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          ::testing::HasSubstr("FAILED")));
  EXPECT_EQ(ErrorReason(s), "JOB_TERMINAL");
}

TEST_F(LifecycleTest, R_CAN_02_CancelTrainingTerminatesThenCancels) {
  ToTraining();
  Do(CancelBy("ana"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
  EXPECT_EQ(rec_.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_TERMINATING);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kDeletePod));
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_CANCEL_REQUESTED);
  // A second cancel returns the current state.
  Do(CancelBy("ana"));
  EXPECT_FALSE(last_.changed);
  clock_.Advance(absl::Seconds(20));
  Observe(Phase::kTerminated);
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(rec_.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_TERMINATED);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kCloseMeter, Effect::kReleaseSlot,
                                   Effect::kFinalizeCost));
  EXPECT_EQ(FromProto(Find(Effect::kCloseMeter)->close_meter().end_time()),
            clock_.Now());
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_CANCELLED);
}

TEST_F(LifecycleTest, R_CAN_02_SlowTerminationRetriesThenIsUnconfirmed) {
  ToTraining();
  const absl::Time requested = clock_.Now();
  Do(CancelBy("ana"));
  Tick(absl::Seconds(5));
  EXPECT_THAT(Kinds(), IsEmpty());
  Tick(absl::Seconds(5));
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kDeletePod));  // re-DELETE at 10 s
  EXPECT_EQ(rec_.job().cancellation().terminate_attempts(), 2);
  for (int i = 0; i < 5; ++i) Tick(absl::Seconds(10));
  EXPECT_EQ(rec_.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_RETRYING);
  while (state() == common::v1::JOB_STATE_CANCELLING) {
    Tick(absl::Seconds(10));
  }
  EXPECT_EQ(clock_.Now() - requested, absl::Minutes(5));
  EXPECT_EQ(rec_.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_UNCONFIRMED);
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  // Billing stopped at the cancel.
  EXPECT_EQ(FromProto(Find(Effect::kCloseMeter)->close_meter().end_time()),
            requested);
}

TEST_F(LifecycleTest, R_CAN_02_CancelDuringAnInFlightCreateDeletesByName) {
  Create();
  Assign();
  Do(CancelBy("ana"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
  const auto& del = Find(Effect::kDeletePod)->delete_pod();
  EXPECT_EQ(del.pod_id(), "");
  EXPECT_EQ(del.name(), "j1-a1");
  // The create answers after all: delete that pod by id, and bill it (the
  // provider does) until it is gone.
  Created("pod-late");
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kOpenMeter, Effect::kDeletePod));
  EXPECT_EQ(Find(Effect::kDeletePod)->delete_pod().pod_id(), "pod-late");
  Observe(Phase::kNotFound);
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_NE(Find(Effect::kCloseMeter), nullptr);
}

// The crash test's ledger check in miniature: job-control may see a pod long
// after it was created (a create answer lost, adopted after a restart) or
// after it stopped (job-control was down): the meter runs from the
// provider's createdAt to its exitedAt/terminatedAt, never into the future.
TEST_F(LifecycleTest, R_X_04_MetersFollowThePodsOwnCreateAndEndTimes) {
  Create();
  Assign();
  const absl::Time created = clock_.Now() - absl::Seconds(40);
  CreatePodResult r;
  r.attempt = attempt();
  r.pod_id = "pod-1";
  r.created_at = created;
  Do(r);
  EXPECT_EQ(FromProto(Find(Effect::kOpenMeter)->open_meter().start_time()),
            created);
  clock_.Advance(absl::Minutes(30));
  Status(common::v1::STAGE_TRAINING, 10);
  Do(PauseBy("ana"));
  const absl::Time exited = clock_.Now() + absl::Seconds(5);
  clock_.Advance(absl::Minutes(2));
  PodObservation o;
  o.pod_id = "pod-1";
  o.phase = Phase::kExited;
  o.exit_reason = "stopped";
  o.ended_at = exited;
  Do(o);
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSED);
  EXPECT_EQ(FromProto(Find(Effect::kCloseMeter)->close_meter().end_time()),
            exited);
  EXPECT_EQ(FromProto(rec_.job().active_time()), exited - created);
  // A provider clock ahead of ours is clamped to now.
  ResumeCommand resume;
  resume.actor.user.set_user_id("ana");
  Do(resume);
  Assign();
  r.attempt = attempt();
  r.pod_id = "pod-2";
  r.created_at = clock_.Now() + absl::Minutes(1);
  Do(r);
  EXPECT_EQ(FromProto(Find(Effect::kOpenMeter)->open_meter().start_time()),
            clock_.Now());
}

TEST_F(LifecycleTest, R_CAN_02_NoPodOfTheNameMeansCancelled) {
  Create();
  Assign();
  Do(CancelBy("ana"));
  PodObservation none;
  none.phase = Phase::kNotFound;
  Do(none);
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLED);
}

TEST_F(LifecycleTest, ErrorAndStallWhilePausingAreLoggedNotActedOn) {
  ToTraining();
  Do(PauseBy("ana"));
  Error("CUDA_OOM");
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSING);
  Stall(common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_THAT(Kinds(), IsEmpty());
  Observe(Phase::kExited, "stopped", seq_);
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSED);
}

TEST_F(LifecycleTest, ErrorWhileCancellingIsLoggedNotActedOn) {
  ToTraining();
  Do(CancelBy("ana"));
  Error("CUDA_OOM");
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
}

TEST_F(LifecycleTest, OnlyACancelOverridesAPauseInProgress) {
  ToTraining();
  Do(PauseBy("ana"));
  EXPECT_EQ(ErrorReason(Try(PauseBy("ana"))), "JOB_NOT_TRAINING");
  Do(CancelBy("bo"));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kDeletePod));
}

TEST_F(LifecycleTest, LateEventsOfAnOldAttemptDoNotDriveTheJob) {
  ToTraining();
  Checkpoint(500);
  Observe(Phase::kExited, "interrupted", seq_);
  ASSERT_EQ(attempt(), 2);
  auto late = Container(common::v1::EVENT_TYPE_ERROR);
  late.set_attempt(1);
  late.mutable_error()->set_code("CUDA_OOM");
  Do(EventInput{late});
  EXPECT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
  auto late_status = Container(common::v1::EVENT_TYPE_STATUS);
  late_status.set_attempt(1);
  late_status.mutable_status()->set_stage(common::v1::STAGE_FINALIZATION);
  Do(EventInput{late_status});
  EXPECT_EQ(state(), common::v1::JOB_STATE_RECOVERING);
  EXPECT_THAT(Kinds(), IsEmpty());
}

TEST_F(LifecycleTest, R_X_02_ReplayedEventsCountOnce) {
  ToTraining();
  auto e = Container(common::v1::EVENT_TYPE_CHECKPOINT);
  e.mutable_checkpoint()->set_step(100);
  Do(EventInput{e});
  ASSERT_EQ(rec_.job().artifacts_size(), 1);
  Do(EventInput{e});  // the stream resumed from an older cursor
  EXPECT_EQ(rec_.job().artifacts_size(), 1);
  EXPECT_FALSE(last_.changed);
}

TEST_F(LifecycleTest, R_STAGE_06_RetryFromAStageInRetryableFrom) {
  ToTraining();
  Checkpoint(900);
  Error("CUDA_OOM");
  RetryCommand bad;
  bad.from_stage = common::v1::STAGE_FINALIZATION;
  EXPECT_EQ(ErrorReason(Try(bad)), "STAGE_NOT_RETRYABLE");
  RetryCommand retry;
  retry.from_stage = common::v1::STAGE_TRAINING;
  retry.gpu_type = common::v1::GPU_TYPE_H100_80GB;
  Do(retry);
  EXPECT_EQ(state(), common::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(attempt(), 2);
  EXPECT_THAT(Kinds(), ElementsAre(Effect::kRegisterJob, Effect::kEnqueue));
  EXPECT_EQ(Find(Effect::kRegisterJob)->register_job().from_step(), 900);
  EXPECT_EQ(rec_.job().failure().code(), "CUDA_OOM");  // kept for history
  EXPECT_FALSE(rec_.job().has_end_time());
  Assign();
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().resume_step(), 900);
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().gpu_type(),
            common::v1::GPU_TYPE_H100_80GB);
}

TEST_F(LifecycleTest, RetryFromPreprocessingStartsOver) {
  ToTraining();
  Checkpoint(900);
  Error("CUDA_OOM");
  RetryCommand retry;
  retry.from_stage = common::v1::STAGE_PREPROCESSING;
  Do(retry);
  Assign();
  EXPECT_EQ(Find(Effect::kCreatePod)->create_pod().resume_step(), 0);
}

TEST_F(LifecycleTest, DeleteTerminalPurgesDataAndKeepsTheAudit) {
  Create();
  EXPECT_EQ(ErrorReason(Try(DeleteCommand{})), "JOB_NOT_TERMINAL");
  Do(CancelBy("ana"));
  Do(DeleteCommand{});
  EXPECT_TRUE(rec_.deleted());
  EXPECT_THAT(Kinds(),
              ElementsAre(Effect::kMetricsDelete, Effect::kCostDelete));
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_DELETED);
}

BudgetAlertInput Exceeded(common::v1::BudgetAction action) {
  BudgetAlertInput in;
  in.alert.set_job_id("j1");
  in.alert.set_kind(cost::v1::ALERT_KIND_BUDGET_EXCEEDED);
  in.alert.set_action(action);
  in.alert.set_message("over budget");
  return in;
}

TEST_F(LifecycleTest, R_X_05_BudgetPausePausesTrainingAtOnce) {
  ToTraining();
  Do(Exceeded(common::v1::BUDGET_ACTION_PAUSE));
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSING);
  EXPECT_EQ(rec_.job().pause().paused_by().user_id(), "system");
  EXPECT_TRUE(Notified(common::v1::NOTIFICATION_TRIGGER_BUDGET_EXCEEDED));
}

TEST_F(LifecycleTest, R_X_05_BudgetPauseBeforeTrainingWaitsForTraining) {
  Create();
  Assign();
  Created();
  Do(Exceeded(common::v1::BUDGET_ACTION_PAUSE));
  EXPECT_EQ(state(), common::v1::JOB_STATE_PROVISIONING);
  Status(common::v1::STAGE_PREPROCESSING);
  Status(common::v1::STAGE_TRAINING);
  EXPECT_EQ(state(), common::v1::JOB_STATE_PAUSING);
  EXPECT_NE(Find(Effect::kStopPod), nullptr);
}

TEST_F(LifecycleTest, R_X_05_BudgetCancelCancelsWithCostTooHigh) {
  ToTraining();
  Do(Exceeded(common::v1::BUDGET_ACTION_CANCEL));
  EXPECT_EQ(state(), common::v1::JOB_STATE_CANCELLING);
  EXPECT_EQ(rec_.job().cancellation().reason(),
            v1::CANCEL_REASON_COST_TOO_HIGH);
  EXPECT_EQ(rec_.job().cancellation().cancelled_by().user_id(), "system");
}

TEST_F(LifecycleTest, R_X_05_BudgetAlertOnlyNotifies) {
  ToTraining();
  Do(Exceeded(common::v1::BUDGET_ACTION_ALERT));
  EXPECT_EQ(state(), common::v1::JOB_STATE_TRAINING);
  EXPECT_TRUE(Notified(common::v1::NOTIFICATION_TRIGGER_BUDGET_EXCEEDED));
  EXPECT_EQ(last_.audit[0].action(), v1::AUDIT_ACTION_BUDGET_ACTION);
}

TEST_F(LifecycleTest, LifecycleEventIdsAreUniqueAndIncreasing) {
  Create();
  Assign();
  Created();
  Do(CancelBy("ana"));
  Observe(Phase::kTerminated);
  // jc_1 queued, jc_2 provisioning, jc_3 pod created, jc_4 cancelling,
  // jc_5 cancelled.
  EXPECT_EQ(rec_.next_event_n(), 6);
  EXPECT_EQ(Find(Effect::kEvent)->event().event_id(), "jc_5");
}

TEST_F(LifecycleTest, ProjectJobTicksDurationAndActiveTime) {
  ToTraining();
  clock_.Advance(absl::Minutes(10));
  v1::Job j = ProjectJob(rec_, clock_.Now());
  EXPECT_EQ(FromProto(j.duration()), absl::Minutes(10));
  EXPECT_EQ(FromProto(j.active_time()), absl::Minutes(10));
}

// ---- the list's copies of progress and cost (domain/copies.h) ----------

common::v1::Progress MetricsProgress(int64_t step, int64_t total,
                                     absl::Time as_of, bool final = false) {
  common::v1::Progress p;
  p.set_job_id("j1");
  p.set_step(step);
  p.set_total_steps(total);
  p.set_percent(100.0 * step / total);
  p.set_stage(common::v1::STAGE_TRAINING);
  p.set_job_state(final ? common::v1::JOB_STATE_FAILED
                        : common::v1::JOB_STATE_TRAINING);
  p.set_final(final);
  p.set_stalled(!final);
  *p.mutable_estimated_remaining() = ToProto(absl::Minutes(5));
  *p.mutable_as_of() = ToProto(as_of);
  return p;
}

common::v1::CostSummary CostOf(int64_t spend_micros, bool final,
                               absl::Time as_of) {
  common::v1::CostSummary c;
  c.set_job_id("j1");
  c.mutable_spend()->set_currency_code("USD");
  c.mutable_spend()->set_micros(spend_micros);
  c.mutable_estimate()->mutable_low()->set_micros(45'000'000);
  c.mutable_estimate()->mutable_high()->set_micros(55'000'000);
  c.set_level(common::v1::COST_LEVEL_GREEN);
  c.set_final(final);
  *c.mutable_as_of() = ToProto(as_of);
  return c;
}

TEST_F(LifecycleTest, R_LIST_07_ProgressCopyFollowsMetricsAndKeepsTheEtag) {
  ToTraining();
  const std::string etag = rec_.job().etag();
  EXPECT_EQ(rec_.job().progress().stage(), common::v1::STAGE_TRAINING);
  Do(CopyRefresh{MetricsProgress(600, 1500, clock_.Now()), std::nullopt});
  EXPECT_TRUE(last_.changed);
  EXPECT_EQ(rec_.job().progress().step(), 600);
  EXPECT_EQ(rec_.job().progress().total_steps(), 1500);
  EXPECT_DOUBLE_EQ(rec_.job().progress().percent(), 40);
  EXPECT_TRUE(rec_.job().progress().stalled());
  EXPECT_EQ(rec_.job().etag(), etag);  // a copy is not a change of the job
  EXPECT_TRUE(last_.effects.empty());
  EXPECT_TRUE(last_.audit.empty());
  // Same figures later: nothing to write.
  clock_.Advance(absl::Seconds(2));
  Do(CopyRefresh{MetricsProgress(600, 1500, clock_.Now()), std::nullopt});
  EXPECT_FALSE(last_.changed);
  // A job metrics does not know yet (only job_id) keeps its copy.
  common::v1::Progress unknown;
  unknown.set_job_id("j1");
  Do(CopyRefresh{unknown, std::nullopt});
  EXPECT_EQ(rec_.job().progress().step(), 600);
  EXPECT_TRUE(NeedsCopyRefresh(rec_));
}

TEST_F(LifecycleTest, R_LIST_07_CompletedJobShowsEveryStepDone) {
  ToTraining();
  Do(CopyRefresh{MetricsProgress(1490, 1500, clock_.Now()), std::nullopt});
  Status(common::v1::STAGE_FINALIZATION, 100);
  Observe(Phase::kExited, "completed", seq_);
  ASSERT_EQ(state(), common::v1::JOB_STATE_COMPLETED);
  const auto& p = rec_.job().progress();
  EXPECT_EQ(p.step(), 1500);
  EXPECT_EQ(p.total_steps(), 1500);
  EXPECT_DOUBLE_EQ(p.percent(), 100);
  EXPECT_EQ(p.epoch(), p.total_epochs());
  EXPECT_EQ(p.stage(), common::v1::STAGE_FINALIZATION);
  EXPECT_FALSE(p.has_estimated_remaining());
  EXPECT_TRUE(rec_.progress_final());
  // A late refresh changes nothing.
  Do(CopyRefresh{MetricsProgress(1490, 1500, clock_.Now()), std::nullopt});
  EXPECT_EQ(rec_.job().progress().step(), 1500);
  // Until the final cost comes, the job is still refreshed.
  EXPECT_TRUE(NeedsCopyRefresh(rec_));
  Do(CopyRefresh{std::nullopt, CostOf(49'000'000, true, clock_.Now())});
  EXPECT_FALSE(NeedsCopyRefresh(rec_));
}

TEST_F(LifecycleTest, R_LIST_07_FailedJobKeepsItsLastStepOnceMetricsIsFinal) {
  ToTraining();
  Error("CUDA_OOM");
  ASSERT_EQ(state(), common::v1::JOB_STATE_FAILED);
  // Metrics has not taken the FAILED event yet: copied, not fixed.
  Do(CopyRefresh{MetricsProgress(700, 1500, clock_.Now()), std::nullopt});
  EXPECT_EQ(rec_.job().progress().step(), 700);
  EXPECT_FALSE(rec_.job().progress().stalled());
  EXPECT_FALSE(rec_.job().progress().has_estimated_remaining());
  EXPECT_FALSE(rec_.progress_final());
  Do(CopyRefresh{MetricsProgress(712, 1500, clock_.Now(), true), std::nullopt});
  EXPECT_EQ(rec_.job().progress().step(), 712);
  EXPECT_TRUE(rec_.progress_final());
  Do(CopyRefresh{MetricsProgress(0, 1500, clock_.Now(), true), std::nullopt});
  EXPECT_EQ(rec_.job().progress().step(), 712);
  // A retry reopens both copies.
  Do(CopyRefresh{std::nullopt, CostOf(20'000'000, true, clock_.Now())});
  RetryCommand retry;
  retry.from_stage = common::v1::STAGE_TRAINING;
  Do(retry);
  EXPECT_FALSE(rec_.progress_final());
  EXPECT_FALSE(rec_.job().cost().final());
  EXPECT_TRUE(NeedsCopyRefresh(rec_));
}

TEST_F(LifecycleTest, R_LIST_02_CostCopyRefreshesUntilTheFinalFigure) {
  ToTraining();
  Do(CopyRefresh{std::nullopt, CostOf(10'000'000, false, clock_.Now())});
  EXPECT_EQ(rec_.job().cost().spend().micros(), 10'000'000);
  EXPECT_EQ(rec_.job().cost().estimate().low().micros(), 45'000'000);
  // A final figure while the job runs is a stale answer: ignored.
  Do(CopyRefresh{std::nullopt, CostOf(11'000'000, true, clock_.Now())});
  EXPECT_EQ(rec_.job().cost().spend().micros(), 10'000'000);
  EXPECT_FALSE(rec_.job().cost().final());
  // Unknown to cost (only job_id): ignored.
  common::v1::CostSummary unknown;
  unknown.set_job_id("j1");
  Do(CopyRefresh{std::nullopt, unknown});
  EXPECT_EQ(rec_.job().cost().spend().micros(), 10'000'000);
  Error("CUDA_OOM");
  Do(CopyRefresh{std::nullopt, CostOf(12'500'000, true, clock_.Now())});
  EXPECT_TRUE(rec_.job().cost().final());
  EXPECT_EQ(rec_.job().cost().spend().micros(), 12'500'000);
  // Fixed: a later non-final answer does not undo it.
  Do(CopyRefresh{std::nullopt, CostOf(13'000'000, false, clock_.Now())});
  EXPECT_EQ(rec_.job().cost().spend().micros(), 12'500'000);
}

}  // namespace
}  // namespace trainyard::jobs
