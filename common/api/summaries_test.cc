// Copyright 2026 Trainyard authors.
#include "common/api/summaries.h"

#include "gtest/gtest.h"

namespace trainyard {
namespace {

TEST(SummaryOf, R_LIST_01_CopiesTheListsCostFields) {
  common::v1::CostTracker t;
  t.set_job_id("j1");
  t.mutable_spend()->set_micros(22'180'000);
  t.mutable_estimate()->mutable_low()->set_micros(20'000'000);
  t.mutable_estimate()->mutable_high()->set_micros(25'000'000);
  t.mutable_projected_final()->set_micros(24'000'000);
  t.set_level(common::v1::COST_LEVEL_YELLOW);
  t.set_over_estimate(true);
  t.set_final(true);
  t.mutable_as_of()->set_seconds(1764385200);
  const common::v1::CostSummary s = SummaryOf(t);
  EXPECT_EQ(s.job_id(), "j1");
  EXPECT_EQ(s.spend().micros(), 22'180'000);
  EXPECT_EQ(s.estimate().low().micros(), 20'000'000);
  EXPECT_EQ(s.estimate().high().micros(), 25'000'000);
  EXPECT_EQ(s.projected_final().micros(), 24'000'000);
  EXPECT_EQ(s.level(), common::v1::COST_LEVEL_YELLOW);
  EXPECT_TRUE(s.over_estimate());
  EXPECT_TRUE(s.final());
  EXPECT_EQ(s.as_of().seconds(), 1764385200);
}

}  // namespace
}  // namespace trainyard
