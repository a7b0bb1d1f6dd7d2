// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/ingestor.h"

#include <limits>

#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/metrics/ingest/ingest_fixture.h"

namespace trainyard::metrics {
namespace {

constexpr absl::Duration kTimeout = absl::Minutes(5);

class IngestorTest : public ::testing::Test, public IngestFixture {
 protected:
  v1::IngestEvent Event(const std::string& id) {
    v1::IngestEvent e;
    e.set_job_id("j1");
    e.set_event_id(id);
    e.set_attempt(1);
    e.set_attempt_seq(++seq_);
    *e.mutable_occurred_time() = ToProto(clock_.Now());
    return e;
  }
  void Ingest(v1::IngestEvent e) {
    std::vector<v1::IngestEvent> events;
    events.push_back(std::move(e));
    auto results = ingestor_->Ingest(std::move(events));
    ASSERT_OK(results.status());
    ASSERT_EQ((*results)[0].outcome(), v1::INGEST_OUTCOME_ACCEPTED)
        << (*results)[0].reason();
  }
  void TrainingStatus() {
    v1::IngestEvent e = Event("status_" + std::to_string(seq_ + 1));
    e.set_type(common::v1::EVENT_TYPE_STATUS);
    e.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
    e.mutable_status()->set_substatus("Training epoch 1/3 - Step 1/100...");
    Ingest(std::move(e));
  }
  void Lifecycle(common::v1::JobState state) {
    v1::IngestEvent e = Event("jc_" + std::to_string(seq_ + 1));
    e.set_type(common::v1::EVENT_TYPE_INFO);
    e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
    e.set_attempt_seq(0);
    e.set_message("lifecycle");
    e.mutable_lifecycle()->set_job_state(state);
    Ingest(std::move(e));
  }
  void Metrics(int64_t step) {
    v1::IngestEvent e = Event("metrics_" + std::to_string(seq_ + 1));
    e.set_type(common::v1::EVENT_TYPE_METRICS);
    e.mutable_metrics()->set_step(step);
    e.mutable_metrics()->set_train_loss(1.0 / static_cast<double>(step));
    Ingest(std::move(e));
  }
  // `n` METRICS events, one step each, `each` apart.
  void Steps(int n, absl::Duration each) {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(each);
      Metrics(++step_);
    }
  }
  // Job-control says the job trains on spot.
  void SpotTraining() {
    v1::IngestEvent e = Event("jc_spot");
    e.set_type(common::v1::EVENT_TYPE_STATUS);
    e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
    e.set_attempt_seq(0);
    e.mutable_lifecycle()->set_job_state(common::v1::JOB_STATE_TRAINING);
    e.mutable_lifecycle()->set_pricing(common::v1::PRICING_SPOT);
    Ingest(std::move(e));
  }
  bool Stalled() { return jobs_->State("j1")->progress().stalled(); }
  v1::Event LastEvent() {
    absl::StatusOr<std::vector<v1::Event>> last =
        events_->ReadLatest("j1", std::numeric_limits<uint64_t>::max(), {}, 1);
    EXPECT_OK(last.status());
    return last.ok() && last->size() == 1 ? last->front() : v1::Event();
  }

  int seq_ = 0;
  int64_t step_ = 0;
};

TEST_F(IngestorTest, R_X_07_SilenceWhileActiveRaisesStallWarning) {
  TrainingStatus();
  clock_.Advance(kTimeout - absl::Seconds(1));
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_TRUE(Stalled());
  // Raised once, not at every check.
  clock_.Advance(kTimeout);
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
  // The warning is in the log, with its payload.
  std::vector<v1::Event> events;
  ASSERT_OK(events_->ReadRange("j1", 0, std::numeric_limits<uint64_t>::max(),
                               [&events](const v1::Event& e) {
                                 events.push_back(e);
                                 return true;
                               }));
  ASSERT_EQ(events.size(), 2u);
  const v1::Event& warning = events[1];
  EXPECT_EQ(warning.type(), common::v1::EVENT_TYPE_WARNING);
  EXPECT_EQ(warning.stall().reason(), common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_THAT(warning.message(), ::testing::HasSubstr("No event for 5m"));
}

TEST_F(IngestorTest, R_X_07_SilentSpotJobIsSuspectedPreemption) {
  SpotTraining();
  TrainingStatus();
  clock_.Advance(kTimeout);
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_EQ(LastEvent().stall().reason(),
            common::v1::STALL_REASON_SUSPECTED_PREEMPTION);
  EXPECT_THAT(LastEvent().message(), ::testing::HasSubstr("preempted"));
  TrainingStatus();
  EXPECT_FALSE(Stalled());
}

TEST_F(IngestorTest, R_X_07_NextEventClearsTheStall) {
  TrainingStatus();
  clock_.Advance(kTimeout);
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  TrainingStatus();
  EXPECT_FALSE(Stalled());
}

// StallPayload's promise: an INFO with cleared=true when the job reports
// again; a restart rebuilds the same state from the log.
TEST_F(IngestorTest, R_X_07_StallClearedIsReportedAsInfo) {
  TrainingStatus();
  clock_.Advance(kTimeout + absl::Minutes(2));
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  const uint64_t warning_seq = LastEvent().job_seq();
  TrainingStatus();
  EXPECT_FALSE(Stalled());
  v1::Event info = LastEvent();
  EXPECT_EQ(info.job_seq(), warning_seq + 2);  // Right after the status.
  EXPECT_EQ(info.type(), common::v1::EVENT_TYPE_INFO);
  EXPECT_EQ(info.source(), common::v1::EVENT_SOURCE_CONTROL_PLANE);
  EXPECT_TRUE(info.stall().cleared());
  EXPECT_EQ(info.stall().reason(), common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_THAT(info.message(),
              ::testing::HasSubstr("Stall cleared after 7m (NO_HEARTBEAT)"));
  const common::v1::Progress p = jobs_->State("j1")->progress();
  EXPECT_EQ(p.stall_reason(), common::v1::STALL_REASON_UNSPECIFIED);
  EXPECT_FALSE(p.has_stalled_since());
  // Once: the next event writes no second INFO.
  TrainingStatus();
  EXPECT_EQ(LastEvent().type(), common::v1::EVENT_TYPE_STATUS);
  JobStates restarted(*events_, *states_, TrackerOptions{});
  absl::StatusOr<internal::JobState> reloaded = restarted.State("j1");
  ASSERT_OK(reloaded.status());
  EXPECT_FALSE(reloaded->progress().stalled());
  EXPECT_EQ(reloaded->progress().stall_reason(),
            common::v1::STALL_REASON_UNSPECIFIED);
}

// Issue 10 item 4: the container's completion (finalization at 100%) ends
// stall detection before job-control has seen the pod exit.
TEST_F(IngestorTest, R_X_07_ContainerCompletionEndsStallDetection) {
  TrainingStatus();
  v1::IngestEvent done = Event("done");
  done.set_type(common::v1::EVENT_TYPE_STATUS);
  done.mutable_status()->set_stage(common::v1::STAGE_FINALIZATION);
  done.mutable_status()->set_substatus("Cleaning up temporary files...");
  done.mutable_status()->set_stage_progress(100);
  Ingest(std::move(done));
  clock_.Advance(10 * kTimeout);
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
  EXPECT_EQ(jobs_->State("j1")->stages().stages(3).state(),
            common::v1::STAGE_STATE_COMPLETED);
}

// Issue 10 item 6: interrupted before the first checkpoint, the next attempt
// trains from step 0: its first METRICS closes the recovery and rolls back
// the interrupted attempt's points.
TEST_F(IngestorTest, R_X_06_RecoveryFromStepZeroRollsBackTheCurve) {
  Steps(5, absl::Seconds(10));
  Lifecycle(common::v1::JOB_STATE_RECOVERING);
  for (int64_t step = 1; step <= 3; ++step) {
    v1::IngestEvent e = Event("a2_" + std::to_string(step));
    e.set_attempt(2);
    e.set_attempt_seq(step);
    e.set_type(common::v1::EVENT_TYPE_METRICS);
    e.mutable_metrics()->set_step(step);
    e.mutable_metrics()->set_train_loss(2.0);
    Ingest(std::move(e));
  }
  absl::StatusOr<std::vector<SeriesPoint>> effective =
      series_->ReadSeries("j1", "train_loss", 0);
  ASSERT_OK(effective.status());
  ASSERT_EQ(effective->size(), 3u);
  for (const SeriesPoint& p : *effective) EXPECT_EQ(p.attempt, 2);
  absl::StatusOr<std::vector<SeriesPoint>> rolled_back =
      series_->ReadSeries("j1", "train_loss", 1);
  ASSERT_OK(rolled_back.status());
  EXPECT_EQ(rolled_back->size(), 5u);
  const internal::JobState state = *jobs_->State("j1");
  ASSERT_EQ(state.stages().recoveries_size(), 1);
  EXPECT_FALSE(state.stages().recoveries(0).in_progress());
  EXPECT_EQ(state.stages().recoveries(0).resumed_from_step(), 0);
  EXPECT_EQ(state.progress().step(), 3);
}

// Status events keep coming, METRICS do not: after 10 minutes (more than 3
// reporting intervals of 1 minute) the job is flagged; only a METRICS event
// ends it.
TEST_F(IngestorTest, R_X_07_MetricSilenceWhileTrainingRaisesStall) {
  for (int i = 1; i <= 5; ++i) {
    Metrics(i);
    clock_.Advance(absl::Minutes(1));
  }
  // Heartbeats every 2 minutes: never NO_HEARTBEAT.
  for (int i = 0; i < 4; ++i) {
    TrainingStatus();
    clock_.Advance(absl::Minutes(2));
    EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0)) << i;
  }
  TrainingStatus();
  clock_.Advance(absl::Minutes(1));  // 10 minutes since the last METRICS.
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_TRUE(Stalled());
  EXPECT_EQ(LastEvent().stall().reason(),
            common::v1::STALL_REASON_METRIC_SILENCE);
  EXPECT_THAT(LastEvent().message(),
              ::testing::HasSubstr("No metrics for 10m"));
  TrainingStatus();
  EXPECT_TRUE(Stalled());  // A status is no proof of training.
  Metrics(6);
  EXPECT_FALSE(Stalled());
}

// 50 steps at 2 s/step make the baseline; at 10 s/step the recent median
// passes 3x the baseline once most of the window is slow; back at 2 s/step
// it falls under 2x and the flag ends.
TEST_F(IngestorTest, R_X_07_SpeedDropAgainstTheBaselineRaisesStall) {
  Steps(50, absl::Seconds(2));
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
  Steps(20, absl::Seconds(10));  // 29 of 49 intervals still at 2 s.
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
  Steps(15, absl::Seconds(10));  // Now 35 of 49 at 10 s.
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_TRUE(Stalled());
  const v1::Event warning = LastEvent();
  EXPECT_EQ(warning.stall().reason(), common::v1::STALL_REASON_SPEED_DROP);
  EXPECT_NEAR(warning.stall().baseline_seconds_per_step(), 2.0, 1e-9);
  EXPECT_GT(warning.stall().seconds_per_step(), 6.0);
  EXPECT_THAT(warning.message(), ::testing::HasSubstr("baseline of 2 s/step"));
  Steps(10, absl::Seconds(2));  // Still over 2x: flagged.
  EXPECT_TRUE(Stalled());
  Steps(40, absl::Seconds(2));
  EXPECT_FALSE(Stalled());
  // A pause ends any flag: paused jobs are never stalled.
  Steps(35, absl::Seconds(10));
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  Lifecycle(common::v1::JOB_STATE_PAUSED);
  EXPECT_FALSE(Stalled());
}

// A validation pass (a long pause, then METRICS at the same step) is not a
// slowdown.
TEST_F(IngestorTest, R_X_07_ValidationPauseIsNoSpeedDrop) {
  Steps(60, absl::Seconds(2));
  clock_.Advance(absl::Minutes(4));  // 120 steps' worth of validation.
  Metrics(step_);
  Steps(10, absl::Seconds(2));
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
}

// After a long pause, METRICS are due from the resume, not from before it.
TEST_F(IngestorTest, R_X_07_ResumeRestartsTheMetricsClock) {
  Lifecycle(common::v1::JOB_STATE_TRAINING);
  for (int i = 1; i <= 5; ++i) {
    Metrics(i);
    clock_.Advance(absl::Minutes(1));
  }
  Lifecycle(common::v1::JOB_STATE_PAUSED);
  clock_.Advance(absl::Hours(3));
  Lifecycle(common::v1::JOB_STATE_TRAINING);
  for (int i = 0; i < 2; ++i) {
    TrainingStatus();
    clock_.Advance(absl::Minutes(4));
    EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0)) << i;
  }
  TrainingStatus();
  clock_.Advance(absl::Minutes(2));  // 10 minutes since the resume.
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_EQ(LastEvent().stall().reason(),
            common::v1::STALL_REASON_METRIC_SILENCE);
}

// A resumed attempt on a 4x slower GPU takes its own baseline: no speed drop
// against the old attempt's.
TEST_F(IngestorTest, R_X_07_NewAttemptTakesItsOwnBaseline) {
  Steps(60, absl::Seconds(2));
  for (int i = 0; i < 80; ++i) {
    clock_.Advance(absl::Seconds(8));
    v1::IngestEvent e = Event("metrics2_" + std::to_string(i));
    e.set_attempt(2);
    e.set_type(common::v1::EVENT_TYPE_METRICS);
    e.mutable_metrics()->set_step(++step_);  // Resumed where it stopped.
    Ingest(std::move(e));
    ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0)) << i;
  }
}

// A job flagged for a training reason that then goes silent is flagged
// again, for the silence.
TEST_F(IngestorTest, R_X_07_SilenceOutranksASpeedDrop) {
  Steps(50, absl::Seconds(2));
  Steps(40, absl::Seconds(10));
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  ASSERT_EQ(LastEvent().stall().reason(), common::v1::STALL_REASON_SPEED_DROP);
  clock_.Advance(kTimeout);
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_EQ(LastEvent().stall().reason(),
            common::v1::STALL_REASON_NO_HEARTBEAT);
  EXPECT_EQ(jobs_->State("j1")->progress().stall_reason(),
            common::v1::STALL_REASON_NO_HEARTBEAT);
  clock_.Advance(kTimeout);
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
}

// Job-control already knows of the interruption: plain silence, not a
// suspected preemption.
TEST_F(IngestorTest, R_X_07_RecoveringSpotJobIsNoSuspectedPreemption) {
  SpotTraining();
  TrainingStatus();
  Lifecycle(common::v1::JOB_STATE_RECOVERING);
  clock_.Advance(kTimeout);
  ASSERT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(1));
  EXPECT_EQ(LastEvent().stall().reason(),
            common::v1::STALL_REASON_NO_HEARTBEAT);
}

TEST_F(IngestorTest, R_X_07_PausedCancelledAndFinishedJobsNeverStall) {
  for (common::v1::JobState state :
       {common::v1::JOB_STATE_PAUSING, common::v1::JOB_STATE_PAUSED,
        common::v1::JOB_STATE_CANCELLED, common::v1::JOB_STATE_COMPLETED,
        common::v1::JOB_STATE_FAILED}) {
    TrainingStatus();
    Lifecycle(state);
    clock_.Advance(10 * kTimeout);
    EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0))
        << common::v1::JobState_Name(state);
    EXPECT_FALSE(Stalled());
  }
}

TEST_F(IngestorTest, R_X_07_QueuedJobWithoutActiveStageNeverStalls) {
  Lifecycle(common::v1::JOB_STATE_QUEUED);
  clock_.Advance(10 * kTimeout);
  EXPECT_THAT(ingestor_->CheckStalls(), testing::IsOkAndHolds(0));
}

// Points of many METRICS events in one call are staged together; a resume in
// the middle of the call still rolls back exactly the points before it.
TEST_F(IngestorTest, R_X_06_RewindInsideOneCallSplitsItsPoints) {
  auto metrics = [&](int32_t attempt, int64_t step, double loss) {
    v1::IngestEvent e =
        Event("m" + std::to_string(attempt) + "_" + std::to_string(step));
    e.set_attempt(attempt);
    e.set_type(common::v1::EVENT_TYPE_METRICS);
    e.mutable_metrics()->set_step(step);
    e.mutable_metrics()->set_train_loss(loss);
    return e;
  };
  std::vector<v1::IngestEvent> call;
  for (int64_t step = 1; step <= 5; ++step) {
    call.push_back(metrics(1, step, 10 - step));
  }
  v1::IngestEvent resume = Event("resume");
  resume.set_attempt(2);
  resume.set_type(common::v1::EVENT_TYPE_STATUS);
  resume.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
  resume.mutable_status()->set_resumed_from_step(3);
  call.push_back(std::move(resume));
  for (int64_t step = 4; step <= 6; ++step) {
    call.push_back(metrics(2, step, 20 - step));
  }
  auto results = ingestor_->Ingest(std::move(call));
  ASSERT_OK(results.status());
  for (const v1::IngestResult& r : *results) {
    ASSERT_EQ(r.outcome(), v1::INGEST_OUTCOME_ACCEPTED) << r.reason();
  }

  auto effective = series_->ReadSeries("j1", "train_loss");
  ASSERT_OK(effective.status());
  std::vector<SeriesPoint> want = {{1, 9, 1},  {2, 8, 1},  {3, 7, 1},
                                   {4, 16, 2}, {5, 15, 2}, {6, 14, 2}};
  EXPECT_EQ(*effective, want);
  auto rolled_back = series_->ReadSeries("j1", "train_loss", 1);
  ASSERT_OK(rolled_back.status());
  want = {{4, 6, 1}, {5, 5, 1}};
  EXPECT_EQ(*rolled_back, want);
}

// A write that fails leaves the job as it was: state, events and points.
TEST_F(IngestorTest, R_X_01_FailedWriteLeavesTheJobAsItWas) {
  v1::IngestEvent first = Event("m1");
  first.set_type(common::v1::EVENT_TYPE_METRICS);
  first.mutable_metrics()->set_step(1);
  first.mutable_metrics()->set_train_loss(2.5);
  Ingest(first);
  wal_->set_fault(storage::testing::WalFault::kFail);
  v1::IngestEvent second = Event("m2");
  second.set_type(common::v1::EVENT_TYPE_METRICS);
  second.mutable_metrics()->set_step(2);
  second.mutable_metrics()->set_train_loss(2.0);
  std::vector<v1::IngestEvent> call;
  call.push_back(second);
  EXPECT_THAT(ingestor_->Ingest(std::move(call)),
              testing::StatusIs(absl::StatusCode::kUnavailable));

  absl::StatusOr<internal::JobState> state = jobs_->State("j1");
  ASSERT_OK(state.status());
  EXPECT_EQ(state->last_job_seq(), 1u);
  EXPECT_EQ(state->progress().step(), 1);
  auto points = series_->ReadSeries("j1", "train_loss");
  ASSERT_OK(points.status());
  std::vector<SeriesPoint> want = {{1, 2.5, 1}};
  EXPECT_EQ(*points, want);
  EXPECT_THAT(events_->FindByEventId("j1", "m2"),
              testing::IsOkAndHolds(std::nullopt));
}

}  // namespace
}  // namespace trainyard::metrics
