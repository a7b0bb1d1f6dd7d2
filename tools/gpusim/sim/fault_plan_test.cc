// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/fault_plan.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

TEST(FaultPointTest, ParsesStageAndPercent) {
  ASSERT_OK_AND_ASSIGN(FaultPoint p, ParseFaultPoint("f", "training:42.5"));
  EXPECT_EQ(p.stage, Stage::kTraining);
  EXPECT_DOUBLE_EQ(p.percent, 42.5);
  ASSERT_OK_AND_ASSIGN(p, ParseFaultPoint("f", "model_loading"));
  EXPECT_EQ(p, (FaultPoint{Stage::kModelLoading, 0}));
  EXPECT_THAT(ParseFaultPoint("f", "cooking:5"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f")));
  EXPECT_THAT(ParseFaultPoint("f", "training:101"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FaultPlanTest, SetsEveryKey) {
  FaultPlan plan;
  EXPECT_OK(plan.Set("spot_per_hour", "0.25"));
  EXPECT_OK(plan.Set("spot_at", "training:10"));
  EXPECT_OK(plan.Set("fail_at", "finalization:50"));
  EXPECT_OK(plan.Set("fail_code", "NCCL_TIMEOUT"));
  EXPECT_OK(plan.Set("fail_message", "NCCL watchdog timeout"));
  EXPECT_OK(plan.Set("stall_at", "preprocessing"));
  EXPECT_OK(plan.Set("stall_for", "15m"));
  EXPECT_OK(plan.Set("nan_at", "training:80"));
  EXPECT_OK(plan.Set("terminate_delay", "90s"));
  EXPECT_OK(plan.Set("terminate_failures", "2"));
  EXPECT_DOUBLE_EQ(plan.spot_per_hour, 0.25);
  EXPECT_EQ(plan.fail_at->stage, Stage::kFinalization);
  EXPECT_EQ(plan.fail_code, "NCCL_TIMEOUT");
  EXPECT_EQ(plan.stall_for, absl::Minutes(15));
  EXPECT_EQ(plan.terminate_delay, absl::Seconds(90));
  EXPECT_EQ(plan.terminate_failures, 2);
  EXPECT_EQ(FaultPlan::Keys().size(), 10u);
  EXPECT_THAT(plan.Set("spot_per_hour", "2"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(plan.Set("explode", "now"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FaultPlanTest, EnvOverridesAndNamesTheVariable) {
  FaultPlan plan;
  plan.fail_code = "GLOBAL";
  Env env = {{"TRAINYARD_FAULT_FAIL_AT", "training:50"},
             {"TRAINYARD_FAULT_STALL_FOR", "10m"}};
  ASSERT_OK(plan.ApplyEnv(env));
  EXPECT_EQ(plan.fail_at, (FaultPoint{Stage::kTraining, 50}));
  EXPECT_EQ(plan.fail_code, "GLOBAL");  // kept: not in env
  EXPECT_EQ(plan.stall_for, absl::Minutes(10));

  absl::Status bad = plan.ApplyEnv({{"TRAINYARD_FAULT_FAIL_AT", "later"}});
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(bad)[0].field, "env.TRAINYARD_FAULT_FAIL_AT");
  bad = plan.ApplyEnv({{"TRAINYARD_FAULT_FAIL_ATT", "training"}});
  ASSERT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(bad)[0].field, "env.TRAINYARD_FAULT_FAIL_ATT");
}

}  // namespace
}  // namespace trainyard::gpusim
