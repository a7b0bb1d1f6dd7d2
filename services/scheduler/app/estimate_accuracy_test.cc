// Copyright 2026 Trainyard authors.
//
// R-X-03: a queue of jobs whose real run times are known plays out on the
// fake clock; the error recorded between each job's estimate at enqueue and
// its actual start (slot assignment) is checked against the hand-computed
// world below.
#include "common/time/proto_time.h"
#include "services/scheduler/testing/scheduler_fixture.h"

namespace trainyard::scheduler {
namespace {

class EstimateAccuracyTest : public ::testing::Test,
                             public testing::SchedulerFixture {};

TEST_F(EstimateAccuracyTest, R_X_03_R_Q_03_RecordedErrorMatchesTheKnownWorld) {
  const absl::Time t0 = clock_.Now();
  auto at = [&](int minutes) { clock_.Set(t0 + absl::Minutes(minutes)); };
  auto release = [&](const std::string& job) {
    ReleaseCommand r;
    r.job_id = job;
    r.attempt = 1;
    r.outcome = v1::SLOT_OUTCOME_COMPLETED;
    ASSERT_OK(scheduler().Release(r).status());
  };
  v1::QueueSettings two = scheduler().Settings();
  two.set_concurrency_limit(2);
  ASSERT_OK(scheduler()
                .UpdateSettings(two, {"concurrency_limit"},
                                {"root", auth::Role::kAdmin})
                .status());
  // Every job is estimated at 1 h. Real slot-holding times: j0 70 min,
  // j1 50, j2 65, j3 80 (j4, j5 irrelevant: the test ends at their start).
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(scheduler()
                  .Enqueue(Job("j" + std::to_string(i), t0 + absl::Seconds(i)))
                  .status());
  }
  // t=0: j0, j1 start (estimates 0+5); j2, j3 estimated at 60+5 (both
  // runners' run-time estimate, no speed yet: LOW).
  // t=10: metrics knows the runners' speeds: j0 has 60 min left, j1 40.
  at(10);
  progress_.Set("j0", testing::Steady(absl::Minutes(60), clock_.Now()));
  progress_.Set("j1", testing::Steady(absl::Minutes(40), clock_.Now()));
  scheduler().Tick();
  // j4 and j5 arrive: j2 takes j1's slot at 50+5 until 115, j3 j0's at
  // 70+5 until 135, so j4 is estimated at 115+5 = 120 (2 ahead, steady:
  // MEDIUM) and j5 at 135+5 = 140 (3 ahead: LOW).
  ASSERT_OK(scheduler().Enqueue(Job("j4", t0 + absl::Seconds(4))).status());
  ASSERT_OK(scheduler().Enqueue(Job("j5", t0 + absl::Seconds(5))).status());
  EXPECT_EQ(FromProto(scheduler().GetEntry("j4")->estimated_start_time()),
            t0 + absl::Minutes(120));
  EXPECT_EQ(scheduler().GetEntry("j4")->confidence(), v1::CONFIDENCE_MEDIUM);
  EXPECT_EQ(scheduler().GetEntry("j5")->confidence(), v1::CONFIDENCE_LOW);
  at(50);
  release("j1");  // j2 starts at 50 (estimated 65: -15)
  at(70);
  release("j0");  // j3 starts at 70 (estimated 65: +5)
  at(115);
  release("j2");  // j4 starts at 115 (estimated 120: -5)
  at(150);
  release("j3");  // j5 starts at 150 (estimated 140: +10)

  // Errors: j0 -5, j1 -5, j2 -15, j3 +5, j4 -5, j5 +10 (minutes).
  auto a = scheduler().Analytics(t0 - absl::Hours(1), t0 + absl::Hours(23));
  const v1::EstimateAccuracy& acc = a.estimate_accuracy();
  EXPECT_EQ(acc.sample_count(), 6);
  EXPECT_EQ(FromProto(acc.mean_absolute_error()), absl::Minutes(45) / 6);
  EXPECT_EQ(FromProto(acc.mean_error()), -absl::Minutes(15) / 6);
  EXPECT_EQ(FromProto(acc.p50_absolute_error()), absl::Minutes(5));
  EXPECT_EQ(FromProto(acc.p90_absolute_error()), absl::Minutes(15));
  std::map<v1::Confidence, int> counts;
  for (const auto& c : acc.by_confidence()) {
    counts[c.confidence()] = c.sample_count();
  }
  EXPECT_EQ(counts[v1::CONFIDENCE_HIGH], 2);    // j0, j1
  EXPECT_EQ(counts[v1::CONFIDENCE_MEDIUM], 1);  // j4
  EXPECT_EQ(counts[v1::CONFIDENCE_LOW], 3);     // j2, j3, j5
  // Waits: 0, 0, 50, 70, 105, 140 minutes.
  EXPECT_EQ(a.jobs_started(), 6);
  EXPECT_EQ(FromProto(a.longest_wait()), absl::Minutes(140));
  EXPECT_EQ(a.longest_wait_job_id(), "j5");
  EXPECT_EQ(FromProto(a.average_wait()), absl::Minutes(365) / 6);
  // Completed runs so far: j1 50/60, j0 70/60, j2 65/60, j3 80/60 of their
  // estimates; the upper median of the four is 70/60.
  EXPECT_DOUBLE_EQ(acc.calibration_factor(), 70.0 / 60.0);
}

TEST_F(EstimateAccuracyTest, R_X_03_CompletedRunsCalibrateLaterEstimates) {
  v1::QueueSettings one = scheduler().Settings();
  one.set_concurrency_limit(1);
  ASSERT_OK(scheduler()
                .UpdateSettings(one, {"concurrency_limit"},
                                {"root", auth::Role::kAdmin})
                .status());
  // Three jobs estimated at 1 h each ran 2 h.
  for (int i = 0; i < 3; ++i) {
    std::string id = "done" + std::to_string(i);
    ASSERT_OK(scheduler().Enqueue(Job(id, clock_.Now())).status());
    clock_.Advance(absl::Hours(2));
    ReleaseCommand r;
    r.job_id = id;
    r.attempt = 1;
    r.outcome = v1::SLOT_OUTCOME_COMPLETED;
    ASSERT_OK(scheduler().Release(r).status());
  }
  ASSERT_OK(scheduler().Enqueue(Job("run", clock_.Now())).status());
  ASSERT_OK(scheduler().Enqueue(Job("next", clock_.Now())).status());
  ASSERT_OK(scheduler()
                .Enqueue(Job("last", clock_.Now() + absl::Seconds(1)))
                .status());
  // "run" (no speed yet) is expected to hold its slot 2 h, "next" too.
  EXPECT_EQ(FromProto(scheduler().GetEntry("last")->estimated_start_time()),
            clock_.Now() + absl::Hours(2) + absl::Minutes(5) + absl::Hours(2) +
                absl::Minutes(5));
  Restart();  // learned from stored runs
  EXPECT_DOUBLE_EQ(scheduler()
                       .Analytics(clock_.Now() - absl::Hours(24),
                                  clock_.Now() + absl::Hours(1))
                       .estimate_accuracy()
                       .calibration_factor(),
                   2.0);
}

}  // namespace
}  // namespace trainyard::scheduler
