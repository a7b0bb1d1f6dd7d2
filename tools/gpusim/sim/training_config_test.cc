// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/training_config.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::trainyard::testing::StatusIs;

Env BaseEnv() {
  return {{"TRAINYARD_JOB_ID", "job-1"},
          {"TRAINYARD_WEBHOOK_URL",
           "http://127.0.0.1:7113/v1/webhooks/runpod/job-1"},
          {"TRAINYARD_WEBHOOK_SECRET", "whsec_c2VjcmV0"}};
}

// The field named by an error of ParseTrainingConfig.
std::string BadField(const Env& env) {
  absl::StatusOr<TrainingConfig> c = ParseTrainingConfig(env);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<FieldViolation> v = FieldViolations(c.status());
  return v.empty() ? "" : v[0].field;
}

TEST(StepsPerEpochTest, FollowsDomainFormula) {
  // ceil(0.8 x 242 / (4 x 4)) = ceil(12.1) = 13.
  EXPECT_EQ(StepsPerEpoch(242, 4, 4), 13);
  // Exact division: 0.8 x 1000 / 8 = 100.
  EXPECT_EQ(StepsPerEpoch(1000, 4, 2), 100);
  EXPECT_EQ(StepsPerEpoch(1001, 4, 2), 101);
  EXPECT_EQ(StepsPerEpoch(1, 64, 64), 1);
}

TEST(TrainingConfigTest, DefaultsAreTheBalancedPreset) {
  ASSERT_OK_AND_ASSIGN(TrainingConfig c, ParseTrainingConfig(BaseEnv()));
  EXPECT_EQ(c.job_id, "job-1");
  EXPECT_EQ(c.lora_rank, 16);
  EXPECT_EQ(c.lora_alpha, 32);
  EXPECT_DOUBLE_EQ(c.learning_rate, 2e-4);
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.lr_schedule, "cosine");
  EXPECT_EQ(c.attempt, 1);
  EXPECT_EQ(c.resume_step, 0);
  EXPECT_FALSE(c.ModelCached());
  EXPECT_EQ(c.TotalSteps(), 50 * 3);  // ceil(800 / 16) x 3
  EXPECT_EQ(c.CheckpointUriPrefix(), "s3://trainyard-artifacts/job-1");
}

TEST(TrainingConfigTest, ReadsEveryVariable) {
  Env env = BaseEnv();
  env["TRAINYARD_BASE_MODEL"] = "meta-llama/Meta-Llama-3-70B";
  env["TRAINYARD_DATASET_CONVERSATIONS"] = "242";
  env["TRAINYARD_DATASET_TOKENS"] = "484000";
  env["TRAINYARD_EPOCHS"] = "4";
  env["TRAINYARD_BATCH_SIZE"] = "2";
  env["TRAINYARD_GRAD_ACCUM"] = "8";
  env["TRAINYARD_LORA_RANK"] = "64";
  env["TRAINYARD_LEARNING_RATE"] = "3e-4";
  env["TRAINYARD_LR_SCHEDULE"] = "linear";
  env["TRAINYARD_RESUME_STEP"] = "20";
  env["TRAINYARD_ATTEMPT"] = "3";
  env["TRAINYARD_SIM_STEP_SECONDS"] = "12.5";
  env["TRAINYARD_SIM_STAGE_SECONDS"] = "1m";
  env["TRAINYARD_SEED"] = "42";
  env["TRAINYARD_UNRELATED"] = "ignored";
  ASSERT_OK_AND_ASSIGN(TrainingConfig c, ParseTrainingConfig(env));
  EXPECT_EQ(c.base_model, "meta-llama/Meta-Llama-3-70B");
  EXPECT_EQ(c.TotalSteps(), 13 * 4);
  EXPECT_EQ(c.TokensPerConversation(), 2000);
  EXPECT_EQ(c.lora_alpha, 128);
  EXPECT_EQ(c.lr_schedule, "linear");
  EXPECT_EQ(c.resume_step, 20);
  EXPECT_EQ(c.attempt, 3);
  EXPECT_TRUE(c.ModelCached());  // a later attempt finds the model cached
  EXPECT_EQ(*c.step_time, absl::Milliseconds(12500));
  EXPECT_EQ(*c.stage_time, absl::Minutes(1));
  EXPECT_EQ(*c.seed, 42u);
}

TEST(TrainingConfigTest, ErrorsNameTheVariable) {
  Env env = BaseEnv();
  env.erase("TRAINYARD_JOB_ID");
  EXPECT_EQ(BadField(env), "env.TRAINYARD_JOB_ID");
  env = BaseEnv();
  env["TRAINYARD_WEBHOOK_URL"] = "ftp://x";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_WEBHOOK_URL");
  env = BaseEnv();
  env["TRAINYARD_WEBHOOK_SECRET"] = "plain";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_WEBHOOK_SECRET");
  env = BaseEnv();
  env["TRAINYARD_EPOCHS"] = "three";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_EPOCHS");
  env = BaseEnv();
  env["TRAINYARD_BATCH_SIZE"] = "0";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_BATCH_SIZE");
  env = BaseEnv();
  env["TRAINYARD_LR_SCHEDULE"] = "step";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_LR_SCHEDULE");
  env = BaseEnv();
  env["TRAINYARD_LEARNING_RATE"] = "nan";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_LEARNING_RATE");
  env = BaseEnv();
  env["TRAINYARD_RESUME_STEP"] = "151";  // past 150 total steps
  EXPECT_EQ(BadField(env), "env.TRAINYARD_RESUME_STEP");
  env = BaseEnv();
  env["TRAINYARD_SIM_STEP_SECONDS"] = "0";
  EXPECT_EQ(BadField(env), "env.TRAINYARD_SIM_STEP_SECONDS");
}

}  // namespace
}  // namespace trainyard::gpusim
