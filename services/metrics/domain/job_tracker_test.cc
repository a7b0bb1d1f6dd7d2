// Copyright 2026 Trainyard authors.
#include "services/metrics/domain/job_tracker.h"

#include <cmath>

#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/metrics/domain/trend.h"

namespace trainyard::metrics {
namespace {

using common::v1::Stage;

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

class TrackerTest : public ::testing::Test {
 protected:
  v1::Event& Next(absl::Duration at) {
    events_.emplace_back();
    v1::Event& e = events_.back();
    e.set_job_id("j1");
    e.set_job_seq(state_.last_job_seq() + events_.size());
    e.set_attempt(attempt_);
    *e.mutable_occurred_time() = ToProto(kT0 + at);
    return e;
  }
  void Fold() {
    for (const v1::Event& e : events_) FoldEvent(options_, e, &state_);
    events_.clear();
  }
  void Lifecycle(absl::Duration at, common::v1::JobState s) {
    Next(at).mutable_lifecycle()->set_job_state(s);
    Fold();
  }
  void Status(absl::Duration at, Stage stage, const std::string& sub,
              double percent) {
    auto* st = Next(at).mutable_status();
    st->set_stage(stage);
    st->set_substatus(sub);
    st->set_stage_progress(percent);
    Fold();
  }
  void Metrics(absl::Duration at, int64_t step, double loss) {
    auto* m = Next(at).mutable_metrics();
    m->set_step(step);
    m->set_total_steps(2000);
    m->set_epoch(2);
    m->set_total_epochs(3);
    m->set_train_loss(loss);
    m->set_gpu_utilization(0.87);
    Fold();
  }

  TrackerOptions options_;
  internal::JobState state_ = NewJobState("j1");
  std::vector<v1::Event> events_;
  int attempt_ = 1;
};

TEST_F(TrackerTest, R_DASH_01_ProgressStepPercentEpochStage) {
  Metrics(absl::Minutes(1), 850, 0.342);
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Minutes(2));
  EXPECT_EQ(p.step(), 850);
  EXPECT_EQ(p.total_steps(), 2000);
  EXPECT_DOUBLE_EQ(p.percent(), 42.5);
  EXPECT_EQ(p.epoch(), 2);
  EXPECT_EQ(p.total_epochs(), 3);
  EXPECT_EQ(p.stage(), common::v1::STAGE_TRAINING);
}

TEST_F(TrackerTest, R_DASH_02_ElapsedExcludesPausedTime) {
  Lifecycle(absl::ZeroDuration(), common::v1::JOB_STATE_PROVISIONING);
  Lifecycle(absl::Hours(1), common::v1::JOB_STATE_PAUSED);
  Lifecycle(absl::Hours(3), common::v1::JOB_STATE_QUEUED);
  Lifecycle(absl::Hours(4), common::v1::JOB_STATE_PROVISIONING);
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Hours(6));
  EXPECT_EQ(FromProto(p.active_elapsed()), absl::Hours(3));
  EXPECT_EQ(FromProto(p.paused_duration()), absl::Hours(3));
  EXPECT_EQ(FromProto(p.total_elapsed()), absl::Hours(6));
  // While paused, active time is frozen.
  Lifecycle(absl::Hours(7), common::v1::JOB_STATE_PAUSED);
  p = ProjectProgress(state_, kT0 + absl::Hours(10));
  EXPECT_EQ(FromProto(p.active_elapsed()), absl::Hours(4));
}

TEST_F(TrackerTest, R_DASH_03_RemainingFollowsRecentSpeed) {
  // 10 s per step for 20 steps, then 5 s per step.
  for (int i = 0; i <= 20; ++i) Metrics(absl::Seconds(10 * i), i, 1.0);
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Seconds(200));
  EXPECT_DOUBLE_EQ(p.seconds_per_step(), 10.0);
  // (2000 - 20) x 10 s + 7.5 min finalization.
  EXPECT_EQ(FromProto(p.estimated_remaining()),
            absl::Seconds(1980 * 10) + absl::Seconds(450));
  for (int i = 21; i <= 120; ++i) {
    Metrics(absl::Seconds(200 + 5 * (i - 20)), i, 1.0);
  }
  p = ProjectProgress(state_, kT0 + absl::Seconds(700));
  EXPECT_DOUBLE_EQ(p.seconds_per_step(),
                   5.0);  // the window forgot the slow part
}

TEST_F(TrackerTest, R_DASH_05_TrendAndWarnings) {
  Metrics(absl::Minutes(1), 100, 0.389);
  Metrics(absl::Minutes(2), 200, 0.342);
  const common::v1::MetricValue& loss = state_.metrics().train_loss();
  EXPECT_DOUBLE_EQ(loss.value(), 0.342);
  EXPECT_DOUBLE_EQ(loss.previous_value(), 0.389);
  EXPECT_NEAR(loss.percent_change(), -12.08, 0.01);
  EXPECT_EQ(loss.trend(), common::v1::TREND_IMPROVING);
  Metrics(absl::Minutes(3), 300, 0.343);  // +0.3%: unchanged
  EXPECT_EQ(state_.metrics().train_loss().trend(), common::v1::TREND_UNCHANGED);
  Metrics(absl::Minutes(4), 400, 0.5);
  EXPECT_EQ(state_.metrics().train_loss().trend(), common::v1::TREND_WORSENING);
  Metrics(absl::Minutes(5), 500, std::nan(""));
  EXPECT_TRUE(std::isnan(state_.metrics().train_loss().value()));
  EXPECT_EQ(state_.metrics().train_loss().trend(), common::v1::TREND_WORSENING);
  EXPECT_GT(state_.metrics().steps_per_hour().value(), 0);
}

// covers R-STAGE-01, R-STAGE-02
TEST_F(TrackerTest, R_STAGE_01_02_StagesProgressThroughWithTimes) {
  Status(absl::ZeroDuration(), common::v1::STAGE_PREPROCESSING,
         "Downloading training file from storage...", 10);
  Status(absl::Minutes(3) + absl::Seconds(42), common::v1::STAGE_MODEL_LOADING,
         "Loading model from cache...", 20);
  common::v1::JobStages stages = ProjectStages(state_, kT0 + absl::Minutes(5));
  EXPECT_EQ(stages.stages(0).state(), common::v1::STAGE_STATE_COMPLETED);
  EXPECT_EQ(FromProto(stages.stages(0).duration()),
            absl::Minutes(3) + absl::Seconds(42));
  EXPECT_EQ(stages.stages(1).state(), common::v1::STAGE_STATE_ACTIVE);
  EXPECT_EQ(stages.stages(1).substatus(), "Loading model from cache...");
  EXPECT_DOUBLE_EQ(stages.stages(1).progress_percent(), 20);
  EXPECT_TRUE(stages.stages(1).model_cache_hit());
  EXPECT_EQ(stages.stages(2).state(), common::v1::STAGE_STATE_PENDING);
  EXPECT_EQ(stages.current_stage(), common::v1::STAGE_MODEL_LOADING);
  // Training percent is step / total.
  Metrics(absl::Minutes(10), 500, 1.0);
  stages = ProjectStages(state_, kT0 + absl::Minutes(10));
  EXPECT_EQ(stages.stages(1).state(), common::v1::STAGE_STATE_COMPLETED);
  EXPECT_DOUBLE_EQ(stages.stages(2).progress_percent(), 25);
}

TEST_F(TrackerTest, R_STAGE_03_DefaultEstimatesAndTakingLonger) {
  Status(absl::ZeroDuration(), common::v1::STAGE_PREPROCESSING, "Parsing...",
         30);
  common::v1::JobStages stages = ProjectStages(state_, kT0 + absl::Minutes(4));
  EXPECT_EQ(FromProto(stages.stages(0).estimated_duration().min()),
            absl::Minutes(2));
  EXPECT_EQ(FromProto(stages.stages(0).estimated_duration().max()),
            absl::Minutes(5));
  EXPECT_FALSE(stages.stages(0).taking_longer_than_usual());
  stages = ProjectStages(state_, kT0 + absl::Minutes(6));
  EXPECT_TRUE(stages.stages(0).taking_longer_than_usual());
  EXPECT_EQ(FromProto(stages.stages(1).estimated_duration().max()),
            absl::Minutes(15));
}

TEST_F(TrackerTest, R_STAGE_05_InterruptionAndResumedFromStep) {
  Metrics(absl::Minutes(1), 850, 0.3);
  Lifecycle(absl::Minutes(2), common::v1::JOB_STATE_RECOVERING);
  EXPECT_EQ(state_.stages().stages(2).state(),
            common::v1::STAGE_STATE_RECOVERING);
  ASSERT_EQ(state_.stages().recoveries_size(), 1);
  EXPECT_TRUE(state_.stages().recoveries(0).in_progress());
  EXPECT_EQ(state_.stages().recoveries(0).interrupted_at_step(), 850);
  attempt_ = 2;
  auto* st = Next(absl::Minutes(5)).mutable_status();
  st->set_stage(common::v1::STAGE_TRAINING);
  st->set_substatus("Resumed from step 800");
  st->set_resumed_from_step(800);
  Fold();
  const common::v1::Recovery& r = state_.stages().recoveries(0);
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.resumed_from_step(), 800);
  EXPECT_EQ(state_.progress().attempt(), 2);
  EXPECT_EQ(state_.progress().step(), 800);
  EXPECT_EQ(state_.stages().stages(2).state(), common::v1::STAGE_STATE_ACTIVE);
}

TEST_F(TrackerTest, R_STAGE_06_FailureMarksStageAndLaterStagesStayPending) {
  Metrics(absl::Minutes(1), 100, 0.3);
  auto* err = Next(absl::Minutes(2)).mutable_error();
  err->set_code("CUDA_OOM");
  err->set_message("CUDA out of memory");
  Fold();
  const common::v1::StageInfo& training = state_.stages().stages(2);
  EXPECT_EQ(training.state(), common::v1::STAGE_STATE_FAILED);
  EXPECT_EQ(training.error().code(), "CUDA_OOM");
  EXPECT_EQ(state_.stages().stages(3).state(), common::v1::STAGE_STATE_PENDING);
  ASSERT_EQ(state_.stages().retryable_from_size(), 1);
  EXPECT_EQ(state_.stages().retryable_from(0), common::v1::STAGE_TRAINING);
}

TEST_F(TrackerTest, R_DASH_09_CompletedJobIsFinal) {
  Lifecycle(absl::ZeroDuration(), common::v1::JOB_STATE_PROVISIONING);
  Metrics(absl::Hours(1), 2000, 0.2);
  Lifecycle(absl::Hours(2), common::v1::JOB_STATE_COMPLETED);
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Hours(9));
  EXPECT_TRUE(p.final());
  EXPECT_FALSE(p.has_estimated_remaining());
  EXPECT_EQ(FromProto(p.total_elapsed()), absl::Hours(2));  // frozen at the end
  for (const auto& s : state_.stages().stages()) {
    EXPECT_EQ(s.state(), common::v1::STAGE_STATE_COMPLETED);
  }
}

// Issue 10 item 2: a delayed event of the interrupted attempt is stored, but
// progress, current metrics, trends and the estimate follow the highest step
// of the current attempt.
TEST_F(TrackerTest, R_DASH_01_LateEventOfAnEarlierAttemptIsNotCurrent) {
  for (int i = 0; i <= 10; ++i) Metrics(absl::Seconds(10 * i), 490 + i, 0.5);
  Lifecycle(absl::Minutes(2), common::v1::JOB_STATE_RECOVERING);
  attempt_ = 2;
  auto* st = Next(absl::Minutes(5)).mutable_status();
  st->set_stage(common::v1::STAGE_TRAINING);
  st->set_resumed_from_step(500);
  Fold();
  for (int i = 1; i <= 100; ++i) {
    Metrics(absl::Minutes(5) + absl::Seconds(10 * i), 500 + i, 0.3);
  }
  const absl::Time now = kT0 + absl::Minutes(30);
  const common::v1::Progress before = ProjectProgress(state_, now);
  const common::v1::CurrentMetrics metrics_before = state_.metrics();
  ASSERT_EQ(before.step(), 600);
  ASSERT_TRUE(before.has_estimated_remaining());

  attempt_ = 1;  // Delivered late, long after attempt 2 took over.
  Metrics(absl::Minutes(20), 501, 99);
  common::v1::Progress after = ProjectProgress(state_, now);
  EXPECT_EQ(after.step(), 600);
  EXPECT_DOUBLE_EQ(after.percent(), 30);
  EXPECT_EQ(FromProto(after.estimated_remaining()),
            FromProto(before.estimated_remaining()));
  EXPECT_EQ(after.attempt(), 2);
  EXPECT_DOUBLE_EQ(state_.metrics().train_loss().value(), 0.3);
  EXPECT_EQ(state_.metrics().train_loss().trend(),
            metrics_before.train_loss().trend());
  EXPECT_EQ(state_.metrics().step(), 600);
  EXPECT_EQ(state_.stages().stages(2).progress_percent(), 30);
}

TEST_F(TrackerTest, R_DASH_01_OutOfOrderStepOfTheAttemptIsNotCurrent) {
  for (int i = 1; i <= 6; ++i) Metrics(absl::Seconds(10 * i), 100 * i, 0.5);
  Metrics(absl::Seconds(70), 300, 99);  // Step 300 arrives after step 600.
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Seconds(80));
  EXPECT_EQ(p.step(), 600);
  EXPECT_DOUBLE_EQ(p.percent(), 30);
  EXPECT_DOUBLE_EQ(p.seconds_per_step(), 0.1);
  EXPECT_DOUBLE_EQ(state_.metrics().train_loss().value(), 0.5);
  EXPECT_EQ(state_.metrics().step(), 600);
  // The same step again (a second report of it) is current.
  Metrics(absl::Seconds(90), 600, 0.4);
  EXPECT_DOUBLE_EQ(state_.metrics().train_loss().value(), 0.4);
}

// Issue 10 item 3: "never reported: hide the row".
TEST_F(TrackerTest, R_DASH_05_MetricsNeverReportedStayUnset) {
  for (int i = 1; i <= 2; ++i) {
    auto* m = Next(absl::Minutes(i)).mutable_metrics();
    m->set_step(i);
    m->set_train_loss(0.5);
    Fold();
  }
  const common::v1::CurrentMetrics& cm = state_.metrics();
  EXPECT_TRUE(cm.has_train_loss());
  EXPECT_TRUE(cm.has_steps_per_hour());
  EXPECT_FALSE(cm.has_val_loss());
  EXPECT_FALSE(cm.has_learning_rate());
  EXPECT_FALSE(cm.has_grad_norm());
  EXPECT_FALSE(cm.has_gpu_utilization());
  EXPECT_FALSE(cm.has_tokens_per_second());
  EXPECT_FALSE(cm.has_perplexity());
}

// Issue 10 item 4: the container's completion signal (webhooks.md).
TEST_F(TrackerTest, R_STAGE_01_FinalizationAt100CompletesAndEndsStallWatch) {
  Lifecycle(absl::ZeroDuration(), common::v1::JOB_STATE_TRAINING);
  Metrics(absl::Hours(1), 2000, 0.2);
  Status(absl::Hours(1) + absl::Minutes(1), common::v1::STAGE_FINALIZATION,
         "Saving LoRA adapters to storage...", 0);
  EXPECT_EQ(state_.stages().stages(3).state(), common::v1::STAGE_STATE_ACTIVE);
  Status(absl::Hours(1) + absl::Minutes(8), common::v1::STAGE_FINALIZATION,
         "Cleaning up temporary files...", 100);
  for (const auto& s : state_.stages().stages()) {
    EXPECT_EQ(s.state(), common::v1::STAGE_STATE_COMPLETED) << s.stage();
  }
  const common::v1::StageInfo& fin = state_.stages().stages(3);
  EXPECT_EQ(FromProto(fin.duration()), absl::Minutes(7));
  EXPECT_DOUBLE_EQ(fin.progress_percent(), 100);
  EXPECT_EQ(state_.stages().current_stage(), common::v1::STAGE_FINALIZATION);
  // Silent for hours before job-control says COMPLETED: never stalled.
  state_.mutable_last_receive_time()->set_seconds(
      absl::ToUnixSeconds(kT0 + absl::Hours(1)));
  EXPECT_FALSE(DetectStall(state_, kT0 + absl::Hours(5), options_.stall));
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Hours(5));
  EXPECT_FALSE(p.has_estimated_remaining());
}

TEST_F(TrackerTest, R_X_07_CompletionClearsAStallFlag) {
  Metrics(absl::Minutes(1), 1990, 0.2);
  Status(absl::Minutes(2), common::v1::STAGE_FINALIZATION, "Saving...", 0);
  v1::Event& w = Next(absl::Minutes(20));
  w.mutable_stall()->set_reason(common::v1::STALL_REASON_METRIC_SILENCE);
  Fold();
  ASSERT_TRUE(state_.progress().stalled());
  Status(absl::Minutes(21), common::v1::STAGE_FINALIZATION, "Done", 100);
  EXPECT_FALSE(state_.progress().stalled());
}

TEST_F(TrackerTest, R_DASH_03_ContainerErrorEndsTheEstimate) {
  for (int i = 0; i <= 20; ++i) Metrics(absl::Seconds(10 * i), i, 1.0);
  ASSERT_TRUE(ProjectProgress(state_, kT0 + absl::Seconds(200))
                  .has_estimated_remaining());
  auto* err = Next(absl::Seconds(210)).mutable_error();
  err->set_code("CUDA_OOM");
  Fold();
  common::v1::Progress p = ProjectProgress(state_, kT0 + absl::Seconds(220));
  EXPECT_FALSE(p.has_estimated_remaining());
  EXPECT_FALSE(p.has_estimated_completion_time());
}

// Issue 10 item 6: a spot job interrupted before its first checkpoint.
TEST_F(TrackerTest, R_STAGE_05_RecoveryFromStepZeroClosesOnFirstTraining) {
  Metrics(absl::Minutes(1), 50, 0.8);
  Lifecycle(absl::Minutes(2), common::v1::JOB_STATE_RECOVERING);
  ASSERT_TRUE(state_.stages().recoveries(0).in_progress());
  attempt_ = 2;
  Status(absl::Minutes(3), common::v1::STAGE_PREPROCESSING, "Parsing...", 10);
  EXPECT_TRUE(state_.stages().recoveries(0).in_progress());
  EXPECT_EQ(ResumeStepOf(state_, Next(absl::Minutes(9))), std::nullopt);
  events_.clear();
  v1::Event& first = Next(absl::Minutes(10));
  first.mutable_metrics()->set_step(1);
  first.mutable_metrics()->set_train_loss(0.9);
  EXPECT_EQ(ResumeStepOf(state_, first), 0);  // The curve rewinds to 0 too.
  Fold();
  const common::v1::Recovery& r = state_.stages().recoveries(0);
  EXPECT_FALSE(r.in_progress());
  EXPECT_TRUE(r.has_resumed_from_step());
  EXPECT_EQ(r.resumed_from_step(), 0);
  EXPECT_EQ(FromProto(r.resumed_time()), kT0 + absl::Minutes(10));
  EXPECT_EQ(state_.progress().step(), 1);
  EXPECT_EQ(state_.stages().stages(2).state(), common::v1::STAGE_STATE_ACTIVE);
  // Later events of the attempt leave it closed.
  Metrics(absl::Minutes(11), 2, 0.85);
  EXPECT_EQ(state_.stages().recoveries(0).resumed_from_step(), 0);
}

// Job-control may number its RECOVERING event with the new attempt
// (orchestration.md: RECOVERING is "attempt + 1"): the recovery is still
// from the attempt that ran to the one that recovers.
TEST_F(TrackerTest, R_STAGE_05_RecoveringEventOfTheNewAttempt) {
  Metrics(absl::Minutes(1), 50, 0.8);
  attempt_ = 2;
  Lifecycle(absl::Minutes(2), common::v1::JOB_STATE_RECOVERING);
  ASSERT_EQ(state_.stages().recoveries_size(), 1);
  EXPECT_EQ(state_.stages().recoveries(0).interrupted_attempt(), 1);
  EXPECT_EQ(state_.stages().recoveries(0).recovery_attempt(), 2);
  Metrics(absl::Minutes(10), 1, 0.9);
  EXPECT_FALSE(state_.stages().recoveries(0).in_progress());
  EXPECT_EQ(state_.stages().recoveries(0).resumed_from_step(), 0);
}

TEST_F(TrackerTest, R_STAGE_05_ReportedResumeStepWins) {
  Metrics(absl::Minutes(1), 850, 0.3);
  Lifecycle(absl::Minutes(2), common::v1::JOB_STATE_RECOVERING);
  attempt_ = 2;
  v1::Event& resumed = Next(absl::Minutes(5));
  resumed.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
  resumed.mutable_status()->set_resumed_from_step(800);
  EXPECT_EQ(ResumeStepOf(state_, resumed), 800);
  Fold();
  v1::Event& next = Next(absl::Minutes(6));
  next.mutable_metrics()->set_step(801);
  EXPECT_EQ(ResumeStepOf(state_, next), std::nullopt);  // Closed already.
  Fold();
  EXPECT_EQ(state_.stages().recoveries(0).resumed_from_step(), 800);
}

}  // namespace
}  // namespace trainyard::metrics
