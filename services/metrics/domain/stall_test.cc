// Copyright 2026 Trainyard authors.
//
// R-X-07 as pure rules: DetectStall over a state folded from events, with
// a fake clock for the receive times and `now`; and the events metrics
// raises for it (raised_events.h).
#include <cmath>

#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/domain/raised_events.h"

namespace trainyard::metrics {
namespace {

using ::testing::HasSubstr;

class StallTest : public ::testing::Test {
 protected:
  // Folds an event received now (occurred at the same time); an event with
  // an id (one metrics raised) is folded as it is.
  v1::Event Receive(v1::Event e) {
    e.set_job_id("j1");
    e.set_job_seq(state_.last_job_seq() + 1);
    if (e.event_id().empty()) {  // raised events keep theirs
      e.set_event_id(absl::StrCat("evt_", e.job_seq()));
      e.set_attempt(attempt_);
      *e.mutable_occurred_time() = ToProto(clock_.Now());
      *e.mutable_receive_time() = ToProto(clock_.Now());
    }
    FoldEvent(options_, e, &state_);
    return e;
  }
  void Lifecycle(common::v1::JobState s, common::v1::Pricing pricing =
                                             common::v1::PRICING_UNSPECIFIED) {
    v1::Event e;
    e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
    e.mutable_lifecycle()->set_job_state(s);
    e.mutable_lifecycle()->set_pricing(pricing);
    Receive(e);
  }
  void TrainingStatus() {
    v1::Event e;
    e.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
    e.mutable_status()->set_substatus("Training");
    Receive(e);
  }
  void Metrics(int64_t step) {
    v1::Event e;
    e.mutable_metrics()->set_step(step);
    e.mutable_metrics()->set_total_steps(100000);
    e.mutable_metrics()->set_train_loss(1.0);
    Receive(e);
  }
  // `n` METRICS events, one step each, `every` apart.
  void Steps(int n, absl::Duration every) {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(every);
      Metrics(++step_);
    }
  }
  std::optional<v1::StallPayload> Detect() {
    return DetectStall(state_, clock_.Now(), options_.stall);
  }
  // Folds the warning metrics raises for `stall`, as the ingestor does.
  v1::Event Raise(v1::StallPayload stall) {
    return Receive(StallWarning(state_, std::move(stall), clock_.Now()));
  }

  FakeClock clock_;
  TrackerOptions options_;
  internal::JobState state_ = NewJobState("j1");
  int attempt_ = 1;
  int64_t step_ = 0;
};

// The stall check skips a job until NextStallCheck: no stall may be missed
// by that, whatever happens first.
TEST_F(StallTest, R_X_07_NextStallCheckIsNeverAfterAStall) {
  EXPECT_EQ(NextStallCheck(state_, clock_.Now(), options_.stall),
            absl::InfiniteFuture());  // no event yet
  TrainingStatus();
  Steps(3, absl::Seconds(30));
  // Silence: the first reason due is the heartbeat (5 min) or the metric
  // silence (10 min), whichever comes first.
  absl::Time next = NextStallCheck(state_, clock_.Now(), options_.stall);
  EXPECT_EQ(next, clock_.Now() + options_.stall.heartbeat_timeout);
  clock_.Advance(options_.stall.heartbeat_timeout - absl::Seconds(1));
  EXPECT_FALSE(Detect().has_value());
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Detect().has_value());
  EXPECT_EQ(clock_.Now(), next);
  // Flagged silent: only an event makes it stall again.
  Raise(*Detect());
  EXPECT_EQ(NextStallCheck(state_, clock_.Now(), options_.stall),
            absl::InfiniteFuture());
  // A speed baseline: judged from the state at once.
  Steps(2 * options_.speed_window, absl::Seconds(1));
  ASSERT_GT(state_.baseline_seconds_per_step(), 0);
  EXPECT_EQ(NextStallCheck(state_, clock_.Now(), options_.stall), clock_.Now());
  // Over: never.
  Lifecycle(common::v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(NextStallCheck(state_, clock_.Now(), options_.stall),
            absl::InfiniteFuture());
}

TEST_F(StallTest, R_X_07_NoHeartbeatExactlyAtTheTimeout) {
  TrainingStatus();
  const absl::Time last = clock_.Now();
  clock_.Advance(options_.stall.heartbeat_timeout - absl::Seconds(1));
  EXPECT_EQ(Detect(), std::nullopt);
  clock_.Advance(absl::Seconds(1));
  std::optional<v1::StallPayload> stall = Detect();
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->reason(), common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_EQ(FromProto(stall->since()), last);
  // Once flagged for silence, it is not raised again.
  Raise(*stall);
  ASSERT_TRUE(state_.progress().stalled());
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(Detect(), std::nullopt);
  // Any event ends the flag.
  TrainingStatus();
  EXPECT_FALSE(state_.progress().stalled());
}

TEST_F(StallTest, R_X_07_QuietSpotPodIsSuspectedPreemptionUnlessRecovering) {
  Lifecycle(common::v1::JOB_STATE_TRAINING, common::v1::PRICING_SPOT);
  TrainingStatus();
  clock_.Advance(options_.stall.heartbeat_timeout);
  ASSERT_TRUE(Detect().has_value());
  EXPECT_EQ(Detect()->reason(), common::v1::STALL_REASON_SUSPECTED_PREEMPTION);
  // Job-control knows of the interruption: plain silence then.
  Lifecycle(common::v1::JOB_STATE_RECOVERING);
  clock_.Advance(options_.stall.heartbeat_timeout);
  ASSERT_TRUE(Detect().has_value());
  EXPECT_EQ(Detect()->reason(), common::v1::STALL_REASON_NO_HEARTBEAT);
}

TEST_F(StallTest, R_X_07_MetricSilenceWhileOtherEventsArrive) {
  Steps(5, absl::Minutes(1));
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(absl::Minutes(2));
    TrainingStatus();
    EXPECT_EQ(Detect(), std::nullopt) << i;
  }
  clock_.Advance(absl::Minutes(2));  // 10 minutes since the last METRICS.
  TrainingStatus();
  std::optional<v1::StallPayload> stall = Detect();
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->reason(), common::v1::STALL_REASON_METRIC_SILENCE);
  Raise(*stall);
  TrainingStatus();
  EXPECT_TRUE(state_.progress().stalled());  // a status proves nothing
  Metrics(++step_);
  EXPECT_FALSE(state_.progress().stalled());
}

TEST_F(StallTest, R_X_07_SpeedDropAgainstTheAttemptsBaseline) {
  Steps(50, absl::Seconds(2));
  EXPECT_EQ(Detect(), std::nullopt);
  Steps(35, absl::Seconds(10));
  std::optional<v1::StallPayload> stall = Detect();
  ASSERT_TRUE(stall.has_value());
  EXPECT_EQ(stall->reason(), common::v1::STALL_REASON_SPEED_DROP);
  EXPECT_NEAR(stall->baseline_seconds_per_step(), 2.0, 1e-9);
  EXPECT_GT(stall->seconds_per_step(), 3 * 2.0);
  Raise(*stall);
  Steps(50, absl::Seconds(2));  // back within 2x
  EXPECT_FALSE(state_.progress().stalled());
}

TEST_F(StallTest, R_X_07_JobsThatCannotStallNeverDo) {
  // Nothing active yet.
  Lifecycle(common::v1::JOB_STATE_QUEUED);
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Detect(), std::nullopt);
  // Paused and over.
  for (common::v1::JobState s :
       {common::v1::JOB_STATE_PAUSED, common::v1::JOB_STATE_COMPLETED,
        common::v1::JOB_STATE_CANCELLED, common::v1::JOB_STATE_FAILED}) {
    state_ = NewJobState("j1");
    TrainingStatus();
    Lifecycle(s);
    clock_.Advance(absl::Hours(2));
    EXPECT_EQ(Detect(), std::nullopt) << common::v1::JobState_Name(s);
  }
}

TEST_F(StallTest, R_X_07_StallWarningAndItsClearingInfo) {
  attempt_ = 2;
  TrainingStatus();
  clock_.Advance(absl::Minutes(7) + absl::Milliseconds(300));
  v1::Event warning = Raise(*Detect());
  EXPECT_EQ(warning.event_id(), "stall_1");
  EXPECT_EQ(warning.type(), common::v1::EVENT_TYPE_WARNING);
  EXPECT_EQ(warning.source(), common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(warning.attempt(), 2);
  EXPECT_EQ(FromProto(warning.occurred_time()), clock_.Now());
  EXPECT_EQ(warning.message(),
            "No event for 7m while the job is active: it may be stalled");
  const common::v1::Progress stalled = state_.progress();
  clock_.Advance(absl::Minutes(3));
  v1::Event back = Receive(v1::Event());
  v1::Event info = StallCleared(back, stalled);
  EXPECT_EQ(info.event_id(), absl::StrCat("stall_cleared_", back.job_seq()));
  EXPECT_EQ(info.type(), common::v1::EVENT_TYPE_INFO);
  EXPECT_TRUE(info.stall().cleared());
  EXPECT_EQ(info.stall().reason(), common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_EQ(info.message(),
            "Stall cleared after 10m (NO_HEARTBEAT): the job reports again");
}

TEST(StallMessage, R_X_07_TextByReason) {
  const absl::Time now = absl::FromUnixSeconds(1764385200);
  v1::StallPayload stall;
  *stall.mutable_since() = ToProto(now - absl::Minutes(12));
  stall.set_reason(common::v1::STALL_REASON_METRIC_SILENCE);
  EXPECT_THAT(StallMessage(stall, now), HasSubstr("No metrics for 12m"));
  stall.set_reason(common::v1::STALL_REASON_SUSPECTED_PREEMPTION);
  EXPECT_THAT(StallMessage(stall, now), HasSubstr("probably preempted"));
  stall.set_reason(common::v1::STALL_REASON_SPEED_DROP);
  stall.set_seconds_per_step(9);
  stall.set_baseline_seconds_per_step(2);
  EXPECT_EQ(StallMessage(stall, now),
            "Training slowed to 9 s/step, 4.5x its baseline of 2 s/step");
}

TEST(Divergence, R_X_07_ANonFiniteLossRaisesOneWarning) {
  v1::MetricsPayload m;
  EXPECT_EQ(DivergedLoss(m), std::nullopt);
  m.set_train_loss(0.3);
  m.set_val_loss(INFINITY);
  EXPECT_EQ(DivergedLoss(m), "val_loss");
  m.set_train_loss(NAN);
  EXPECT_EQ(DivergedLoss(m), "train_loss");  // train_loss first

  v1::Event e;
  e.set_job_id("j1");
  e.set_job_seq(42);
  e.set_event_id("evt_2_9");
  e.set_attempt(2);
  *e.mutable_metrics() = m;
  e.mutable_metrics()->set_step(850);
  v1::Event w = DivergenceWarning(e, "train_loss");
  EXPECT_EQ(w.event_id(), "divergence_42");
  EXPECT_EQ(w.type(), common::v1::EVENT_TYPE_WARNING);
  EXPECT_EQ(w.source(), common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_EQ(w.attempt(), 2);
  EXPECT_EQ(w.message(),
            "Training diverged: train_loss is nan at step 850 (event evt_2_9)");
}

TEST(ReportedResumeStep, R_X_06_OnlyLaterAttemptsRewind) {
  v1::Event e;
  e.set_attempt(1);
  e.mutable_status()->set_resumed_from_step(800);
  EXPECT_EQ(ReportedResumeStep(e), std::nullopt);
  e.set_attempt(2);
  EXPECT_EQ(ReportedResumeStep(e), 800);
  e.mutable_lifecycle()->set_resume_from_step(700);  // replaces the status
  EXPECT_EQ(ReportedResumeStep(e), 700);
  e.mutable_metrics()->set_step(5);
  EXPECT_EQ(ReportedResumeStep(e), std::nullopt);
}

}  // namespace
}  // namespace trainyard::metrics
