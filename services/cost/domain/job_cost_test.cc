// Copyright 2026 Trainyard authors.
#include "services/cost/domain/job_cost.h"

#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/cost/domain/ledger.h"

namespace trainyard::cost {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

// Estimate $45-55 at $2.49/h spot, duration 10 h low.
internal::JobRecord Record() {
  internal::JobRecord r;
  r.set_job_id("j1");
  r.mutable_config()->set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
  r.mutable_config()->set_pricing(common::v1::PRICING_SPOT);
  auto* e = r.mutable_estimate();
  e->mutable_cost()->mutable_low()->set_micros(45'000'000);
  e->mutable_cost()->mutable_high()->set_micros(55'000'000);
  e->mutable_hourly_rate()->set_micros(2'490'000);
  e->mutable_hourly_rate()->set_currency_code("USD");
  *e->mutable_duration()->mutable_min() = ToProto(absl::Hours(10));
  return r;
}

void SetSpend(internal::JobRecord& r, int64_t micros) {
  TotalOf(r, common::v1::COST_PHASE_ACTIVE_COMPUTE).set_amount_micros(micros);
}

TEST(JobCost, R_DASH_06_LevelBoundaries) {
  // 79.99 / 80 / 100 / 100.01 percent of a $45 low end.
  EXPECT_EQ(LevelOf(35'995'500, 45'000'000), common::v1::COST_LEVEL_GREEN);
  EXPECT_EQ(LevelOf(36'000'000, 45'000'000), common::v1::COST_LEVEL_YELLOW);
  EXPECT_EQ(LevelOf(45'000'000, 45'000'000), common::v1::COST_LEVEL_YELLOW);
  EXPECT_EQ(LevelOf(45'004'500, 45'000'000), common::v1::COST_LEVEL_RED);
  // One micro either side of 80 %.
  EXPECT_EQ(LevelOf(35'999'999, 45'000'000), common::v1::COST_LEVEL_GREEN);
  EXPECT_EQ(LevelOf(45'000'001, 45'000'000), common::v1::COST_LEVEL_RED);
}

TEST(JobCost, R_DASH_06_TrackerFromSeedExample) {
  internal::JobRecord r = Record();
  SetSpend(r, 22'180'000);
  v1::GetJobCostResponse c = JobCost(r, kT0, absl::NotFoundError("x"));
  EXPECT_EQ(c.cost().spend().micros(), 22'180'000);
  EXPECT_NEAR(c.cost().percent_of_estimate(), 49.29, 0.01);
  EXPECT_EQ(c.cost().level(), common::v1::COST_LEVEL_GREEN);
  EXPECT_FALSE(c.cost().over_estimate());
  EXPECT_EQ(c.cost().alert_text(), "");
  EXPECT_EQ(c.cost().by_phase_size(), 4);
  EXPECT_EQ(c.cost().budget().state(), common::v1::BUDGET_STATE_NONE);

  SetSpend(r, 54'100'000);  // above $55? no: between
  EXPECT_FALSE(
      JobCost(r, kT0, absl::NotFoundError("x")).cost().over_estimate());
  SetSpend(r, 55'000'001);
  c = JobCost(r, kT0, absl::NotFoundError("x"));
  EXPECT_TRUE(c.cost().over_estimate());
  EXPECT_EQ(c.cost().level(), common::v1::COST_LEVEL_RED);
  EXPECT_EQ(c.cost().alert_text(),
            "Cost Exceeding Estimate: Current $55.00 vs estimated "
            "$45.00-$55.00. Monitor closely or consider cancelling.");
}

TEST(JobCost, R_DASH_06_ProjectionFromProgressOrEstimate) {
  internal::JobRecord r = Record();
  v1::Meter* m = r.add_open_meters();
  m->set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
  m->mutable_hourly_rate()->set_micros(2'490'000);
  m->set_gpu_count(1);
  *m->mutable_start_time() = ToProto(kT0);
  const absl::Time now = kT0 + absl::Hours(2);
  // 1000 steps left at 3.6 s/step = 1 h more: spend 4.98 + 2.49.
  ProgressView p{.step = 1000, .total_steps = 2000, .seconds_per_step = 3.6};
  v1::GetJobCostResponse c = JobCost(r, now, p);
  EXPECT_EQ(c.projection_source(), v1::PROJECTION_SOURCE_PROGRESS);
  EXPECT_EQ(c.cost().spend().micros(), 4'980'000);
  EXPECT_EQ(c.cost().projected_final().micros(), 7'470'000);
  EXPECT_TRUE(c.cost().accruing());
  EXPECT_EQ(FromProto(c.active_duration()), absl::Hours(2));

  // Metrics unreachable: the estimate's 10 h minus 2 h billed = 8 h more.
  c = JobCost(r, now, absl::UnavailableError("metrics unreachable"));
  EXPECT_EQ(c.projection_source(), v1::PROJECTION_SOURCE_ESTIMATE);
  EXPECT_EQ(c.cost().projected_final().micros(), 4'980'000 + 8 * 2'490'000);
  EXPECT_NE(c.projection_note().find("metrics unreachable"), std::string::npos);
}

TEST(JobCost, R_X_05_AlertsFireOncePerCrossing) {
  internal::JobRecord r = Record();
  r.mutable_budget()->mutable_limit()->set_micros(40'000'000);
  r.mutable_budget()->set_action(common::v1::BUDGET_ACTION_PAUSE);
  EXPECT_TRUE(DueAlerts(r, 31'999'999, kT0).empty());
  std::vector<v1::BudgetAlert> a = DueAlerts(r, 32'000'000, kT0);  // 80 %
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind(), v1::ALERT_KIND_BUDGET_WARNING);
  EXPECT_EQ(a[0].threshold().micros(), 32'000'000);
  EXPECT_TRUE(DueAlerts(r, 33'000'000, kT0).empty());  // once
  a = DueAlerts(r, 40'000'000, kT0 + absl::Minutes(1));
  ASSERT_EQ(a.size(), 2u);  // 80 % of estimate ($36) and the budget
  EXPECT_EQ(a[0].kind(), v1::ALERT_KIND_ESTIMATE_WARNING);
  EXPECT_EQ(a[1].kind(), v1::ALERT_KIND_BUDGET_EXCEEDED);
  EXPECT_EQ(a[1].action(), common::v1::BUDGET_ACTION_PAUSE);
  EXPECT_EQ(FromProto(r.budget_exceeded_time()), kT0 + absl::Minutes(1));
  EXPECT_EQ(JobCost(r, kT0, absl::NotFoundError("")).cost().budget().state(),
            common::v1::BUDGET_STATE_EXCEEDED);
  a = DueAlerts(r, 55'000'001, kT0);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind(), v1::ALERT_KIND_OVER_ESTIMATE);
  EXPECT_TRUE(DueAlerts(r, 60'000'000, kT0).empty());
}

}  // namespace
}  // namespace trainyard::cost
