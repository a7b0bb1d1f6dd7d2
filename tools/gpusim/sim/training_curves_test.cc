// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/training_curves.h"

#include <cmath>

#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

class TrainingCurvesTest : public ::testing::Test {
 protected:
  TrainingCurvesTest() {
    config_.job_id = "job";
    config_.dataset_conversations = 10000;  // 500 steps x 3 epochs
  }
  TrainingCurves Make(uint64_t shape = 1) {
    return TrainingCurves(config_, model_,
                          *FindGpuType("NVIDIA H100 80GB HBM3"), 1, shape);
  }
  TrainingConfig config_;
  ModelProfile model_ = ModelProfile::FromName("meta-llama/Meta-Llama-3-70B");
};

TEST_F(TrainingCurvesTest, WarmupThenCosine) {
  TrainingCurves c = Make();
  int64_t total = c.TotalSteps();
  ASSERT_EQ(total, 1500);
  int64_t warmup = 45;  // 3%
  EXPECT_DOUBLE_EQ(c.LearningRate(0), 0);
  EXPECT_LT(c.LearningRate(warmup / 2), 2e-4 * 0.6);
  EXPECT_DOUBLE_EQ(c.LearningRate(warmup), 2e-4);
  int64_t middle = warmup + (total - warmup) / 2;
  EXPECT_NEAR(c.LearningRate(middle), 1e-4, 1e-6);
  EXPECT_NEAR(c.LearningRate(total), 0, 1e-12);
  for (int64_t s = warmup; s < total; ++s) {
    ASSERT_LE(c.LearningRate(s + 1), c.LearningRate(s));
  }
  config_.lr_schedule = "constant";
  EXPECT_DOUBLE_EQ(Make().LearningRate(total), 2e-4);
}

TEST_F(TrainingCurvesTest, LossFallsAsANoisyPowerLawTowardAFloor) {
  TrainingCurves c = Make();
  Rng rng(7);
  EXPECT_GT(c.ExpectedLoss(0), 1.8);
  for (int64_t s = 0; s < c.TotalSteps(); ++s) {
    ASSERT_LE(c.ExpectedLoss(s + 1), c.ExpectedLoss(s));
  }
  double end = c.ExpectedLoss(c.TotalSteps());
  EXPECT_GT(end, 0.15);
  EXPECT_LT(end, 0.6);
  // Noisy: consecutive readings differ, but averages follow the curve.
  double first = 0, last = 0;
  bool varied = false;
  for (int i = 1; i <= 100; ++i) {
    double a = c.TrainLoss(i, rng);
    varied = varied || std::fabs(a - c.ExpectedLoss(i)) > 1e-6;
    first += a;
    last += c.TrainLoss(c.TotalSteps() - 100 + i, rng);
  }
  EXPECT_TRUE(varied);
  EXPECT_GT(first, 2 * last);
}

TEST_F(TrainingCurvesTest, ValidationSitsAboveTrainingWithAWideningGap) {
  TrainingCurves c = Make();
  Rng rng(3);
  double gap1 = c.ValLoss(1, 500, rng) / c.ExpectedLoss(500);
  double gap3 = c.ValLoss(3, 1500, rng) / c.ExpectedLoss(1500);
  EXPECT_GT(gap1, 1.0);
  EXPECT_LT(gap1, 1.15);
  EXPECT_GT(gap3, gap1);
}

TEST_F(TrainingCurvesTest, ShapeDependsOnlyOnTheShapeSeed) {
  EXPECT_DOUBLE_EQ(Make(5).ExpectedLoss(700), Make(5).ExpectedLoss(700));
  EXPECT_NE(Make(5).ExpectedLoss(700), Make(6).ExpectedLoss(700));
}

TEST_F(TrainingCurvesTest, GpuReadingsLookReal) {
  TrainingCurves c = Make();
  Rng rng(11);
  int in_band = 0;
  for (int i = 0; i < 1000; ++i) {
    GpuSample g = c.SampleGpu(rng);
    ASSERT_GE(g.utilization, 0.45);
    ASSERT_LE(g.utilization, 0.95);
    in_band += g.utilization >= 0.8 ? 1 : 0;
    ASSERT_LE(g.memory_used_bytes, g.memory_total_bytes);
    ASSERT_GT(g.memory_used_bytes, g.memory_total_bytes / 2);
    ASSERT_GT(g.tokens_per_second, 500);
    ASSERT_LT(g.tokens_per_second, 1500);
  }
  EXPECT_GT(in_band, 900);  // dips are rare
  EXPECT_LT(in_band, 1000);
  EXPECT_LT(c.SampleGpu(rng, /*busy_dip=*/true).utilization, 0.8);
  // 16 conversations x 1,024 tokens at ~1,250 tokens/s.
  EXPECT_NEAR(absl::ToDoubleSeconds(c.StepTime(1250)), 13.1, 0.1);
  config_.step_time = absl::Seconds(2);
  EXPECT_EQ(Make().StepTime(1250), absl::Seconds(2));
}

}  // namespace
}  // namespace trainyard::gpusim
