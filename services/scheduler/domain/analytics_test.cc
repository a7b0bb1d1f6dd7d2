// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/analytics.h"

#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

const absl::Time kDay = absl::FromUnixSeconds(1764374400);  // midnight UTC

internal::StartRecord Start(std::string job, absl::Duration wait, absl::Time at,
                            absl::Duration error, v1::Confidence c) {
  internal::StartRecord s;
  s.set_job_id(job);
  *s.mutable_enqueue_time() = ToProto(at - wait);
  *s.mutable_start_time() = ToProto(at);
  *s.mutable_initial_estimated_start_time() = ToProto(at - error);
  s.set_initial_confidence(c);
  return s;
}

TEST(Analytics, R_Q_06_R_X_03_WaitsThroughputAndEstimateError) {
  std::vector<internal::StartRecord> starts = {
      Start("a", absl::Minutes(10), kDay + absl::Hours(1), absl::Minutes(2),
            v1::CONFIDENCE_HIGH),
      Start("b", absl::Minutes(30), kDay + absl::Hours(2), -absl::Minutes(4),
            v1::CONFIDENCE_MEDIUM),
      Start("c", absl::Minutes(50), kDay + absl::Hours(26), absl::Minutes(6),
            v1::CONFIDENCE_LOW),
      // Outside the period.
      Start("old", absl::Hours(9), kDay - absl::Hours(1), absl::Hours(1),
            v1::CONFIDENCE_LOW),
  };
  auto out =
      ComputeAnalytics(starts, kDay, kDay + absl::Hours(48), {{kDay, 7}});
  EXPECT_EQ(out.jobs_started(), 3);
  EXPECT_DOUBLE_EQ(out.throughput_jobs_per_day(), 1.5);
  EXPECT_EQ(FromProto(out.average_wait()), absl::Minutes(30));
  EXPECT_EQ(FromProto(out.median_wait()), absl::Minutes(30));
  EXPECT_EQ(FromProto(out.p90_wait()), absl::Minutes(50));
  EXPECT_EQ(FromProto(out.longest_wait()), absl::Minutes(50));
  EXPECT_EQ(out.longest_wait_job_id(), "c");
  const auto& acc = out.estimate_accuracy();
  EXPECT_EQ(acc.sample_count(), 3);
  EXPECT_EQ(FromProto(acc.mean_absolute_error()), absl::Minutes(4));
  EXPECT_EQ(FromProto(acc.mean_error()), absl::Minutes(4) / 3);
  EXPECT_EQ(FromProto(acc.p50_absolute_error()), absl::Minutes(4));
  EXPECT_EQ(FromProto(acc.p90_absolute_error()), absl::Minutes(6));
  EXPECT_EQ(acc.by_confidence_size(), 3);
  ASSERT_EQ(out.daily_size(), 2);
  EXPECT_EQ(out.daily(0).jobs_started(), 2);
  EXPECT_EQ(out.daily(0).max_depth(), 7);
  EXPECT_EQ(FromProto(out.daily(0).average_wait()), absl::Minutes(20));
  EXPECT_EQ(out.daily(1).jobs_started(), 1);
}

TEST(Analytics, R_Q_06_EmptyPeriod) {
  auto out = ComputeAnalytics({}, kDay, kDay + absl::Hours(24), {});
  EXPECT_EQ(out.jobs_started(), 0);
  EXPECT_EQ(out.estimate_accuracy().calibration_factor(), 1.0);
  EXPECT_EQ(out.daily_size(), 1);
}

}  // namespace
}  // namespace trainyard::scheduler
