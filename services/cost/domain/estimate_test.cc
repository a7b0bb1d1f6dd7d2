// Copyright 2026 Trainyard authors.
#include "services/cost/domain/estimate.h"

#include "common/time/proto_time.h"
#include "gtest/gtest.h"
#include "services/cost/domain/money.h"

namespace trainyard::cost {
namespace {

common::v1::TrainingConfig Config() {
  common::v1::TrainingConfig c;
  c.set_preset(common::v1::PRESET_BALANCED);
  c.set_base_model("meta-llama/Meta-Llama-3-70B");
  c.mutable_dataset()->set_conversations(10'000);
  c.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
  c.set_gpu_count(1);
  c.set_pricing(common::v1::PRICING_SPOT);
  return c;
}

TEST(Estimate, TotalStepsFollowsDomainFormula) {
  common::v1::TrainingConfig c = Config();
  // ceil(0.8 x 10000 / 16) x 3 = 500 x 3.
  EXPECT_EQ(TotalSteps(c), 1500);
  c.mutable_dataset()->set_conversations(10'001);  // 500.05 -> 501
  EXPECT_EQ(TotalSteps(c), 1503);
  c.mutable_hyperparameters()->set_epochs(1);
  c.mutable_hyperparameters()->set_batch_size(8);
  EXPECT_EQ(TotalSteps(c), 251);  // ceil(8000.8 / 32)
}

TEST(Estimate, ModelSizeFromId) {
  EXPECT_EQ(ModelBillions("meta-llama/Meta-Llama-3-70B"), 70);
  EXPECT_EQ(ModelBillions("meta-llama/Llama-3.1-8B-Instruct"), 8);
  EXPECT_EQ(ModelBillions("Qwen/Qwen2.5-0.5B"), 0.5);
  EXPECT_EQ(ModelBillions("gpt2"), 7);
}

TEST(Estimate, R_DASH_06_RangeFromModelWithSpotAllowance) {
  EstimateInput in{.config = Config(), .hourly_rate_micros = 2'490'000};
  v1::CostEstimate e = Estimate(in);
  EXPECT_EQ(e.basis(), v1::ESTIMATE_BASIS_MODEL);
  EXPECT_EQ(e.history_sample_count(), 0);
  EXPECT_EQ(e.total_steps(), 1500);
  EXPECT_EQ(e.remaining_steps(), 1500);
  const int64_t low_ms =
      absl::ToInt64Milliseconds(FromProto(e.duration().min()));
  EXPECT_NEAR(low_ms / 1000.0,
              1500 * ModelSecondsPerStep(Config()) + kModelOverheadSeconds,
              0.001);
  EXPECT_EQ(e.cost().low().micros(), ComputeAmountMicros(2'490'000, low_ms));
  // No history, spot: high = low x (1 + 0.25 + 0.15).
  EXPECT_NEAR(
      static_cast<double>(e.cost().high().micros()) / e.cost().low().micros(),
      1.40, 0.001);
  EXPECT_EQ(e.assumptions_size(), 2);
}

TEST(Estimate, R_DASH_06_CalibratedByHistoryNarrowsTheRange) {
  EstimateInput in{.config = Config(), .hourly_rate_micros = 3'990'000};
  in.config.set_pricing(common::v1::PRICING_ON_DEMAND);
  in.history =
      HistoryStats{.count = 3, .seconds_per_step = 10, .overhead_seconds = 600};
  v1::CostEstimate e = Estimate(in);
  EXPECT_EQ(e.basis(), v1::ESTIMATE_BASIS_HISTORY);
  EXPECT_EQ(e.history_sample_count(), 3);
  EXPECT_EQ(e.seconds_per_step(), 10);
  EXPECT_EQ(FromProto(e.duration().min()), absl::Seconds(1500 * 10 + 600));
  EXPECT_EQ(e.cost().low().micros(), int64_t{3'990'000} * 15600 / 3600);
  EXPECT_NEAR(
      static_cast<double>(e.cost().high().micros()) / e.cost().low().micros(),
      1.10, 0.001);
}

TEST(Estimate, R_PAUSE_02_FromStepCoversTheRemainingSteps) {
  EstimateInput in{.config = Config(),
                   .from_step = 1000,
                   .hourly_rate_micros = 2'490'000,
                   .observed_seconds_per_step = 4.0};
  v1::CostEstimate e = Estimate(in);
  EXPECT_EQ(e.basis(), v1::ESTIMATE_BASIS_OBSERVED_SPEED);
  EXPECT_EQ(e.remaining_steps(), 500);
  EXPECT_EQ(FromProto(e.duration().min()),
            absl::Seconds(500 * 4 + kModelOverheadSeconds));
}

TEST(Estimate, CalibrationKeyGroupsSimilarConfigurations) {
  common::v1::TrainingConfig a = Config();
  common::v1::TrainingConfig b = Config();
  b.mutable_dataset()->set_conversations(99);  // size of data does not matter
  b.set_pricing(common::v1::PRICING_ON_DEMAND);
  EXPECT_EQ(CalibrationKey(a), CalibrationKey(b));
  b.set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
  EXPECT_NE(CalibrationKey(a), CalibrationKey(b));
}

}  // namespace
}  // namespace trainyard::cost
