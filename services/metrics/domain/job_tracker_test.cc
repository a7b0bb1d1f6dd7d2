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

TEST(TrendTest, R_DASH_05_HigherIsBetterAndNoDirection) {
  common::v1::MetricValue prev =
      NextMetricValue(nullptr, 0.80, 1, kT0, Better::kHigher, 1.0);
  EXPECT_FALSE(prev.has_previous_value());
  EXPECT_EQ(prev.trend(), common::v1::TREND_UNSPECIFIED);
  EXPECT_EQ(NextMetricValue(&prev, 0.9, 2, kT0, Better::kHigher, 1.0).trend(),
            common::v1::TREND_IMPROVING);
  EXPECT_EQ(NextMetricValue(&prev, 0.5, 2, kT0, Better::kNeither, 1.0).trend(),
            common::v1::TREND_UNSPECIFIED);
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

}  // namespace
}  // namespace trainyard::metrics
