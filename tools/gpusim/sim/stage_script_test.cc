// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/stage_script.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

using ::testing::ElementsAre;

MATCHER_P3(Op, text, lo, hi, "") {
  return arg.substatus == text && arg.start_percent == lo &&
         arg.end_percent == hi;
}

class StageScriptTest : public ::testing::Test {
 protected:
  StageScriptTest() {
    config_.job_id = "job";
    config_.base_model = "meta-llama/Meta-Llama-3-70B";
    config_.dataset_conversations = 242;
    config_.lora_rank = 16;
  }
  TrainingConfig config_;
  ModelProfile model_ = ModelProfile::FromName("meta-llama/Meta-Llama-3-70B");
};

// The seed's FR2.1.2, word for word.
TEST_F(StageScriptTest, PreprocessingMessages) {
  EXPECT_THAT(
      StageOperations(Stage::kPreprocessing, config_, model_),
      ElementsAre(Op("Downloading training file from storage...", 0, 20),
                  Op("Parsing 242 conversations...", 20, 40),
                  Op("Tokenizing text with Llama 3 tokenizer...", 40, 70),
                  Op("Creating train/validation split (80/20)...", 70, 90),
                  Op("Validating dataset format...", 90, 100)));
}

TEST_F(StageScriptTest, ModelLoadingMessagesFirstRunAndCached) {
  EXPECT_THAT(StageOperations(Stage::kModelLoading, config_, model_),
              ElementsAre(Op("Checking model cache...", 0, 10),
                          Op("Downloading Llama 3 70B from Hugging Face Hub...",
                             10, 60),
                          Op("Applying 4-bit quantization (QLoRA)...", 60, 80),
                          Op("Initializing LoRA adapters (rank=16)...", 80, 95),
                          Op("Preparing training pipeline...", 95, 100)));
  config_.model_cached = true;
  EXPECT_THAT(StageOperations(Stage::kModelLoading, config_, model_),
              ElementsAre(Op("Checking model cache...", 0, 10),
                          Op("Loading model from cache...", 10, 40),
                          Op("Applying 4-bit quantization (QLoRA)...", 60, 80),
                          Op("Initializing LoRA adapters (rank=16)...", 80, 95),
                          Op("Preparing training pipeline...", 95, 100)));
}

TEST_F(StageScriptTest, FinalizationMessages) {
  EXPECT_THAT(StageOperations(Stage::kFinalization, config_, model_),
              ElementsAre(Op("Saving LoRA adapters to storage...", 0, 40),
                          Op("Uploading adapter_model.bin (395MB)...", 40, 60),
                          Op("Uploading adapter_config.json...", 60, 70),
                          Op("Calculating final metrics...", 70, 85),
                          Op("Generating training summary...", 85, 95),
                          Op("Cleaning up temporary files...", 95, 100)));
}

TEST_F(StageScriptTest, DurationsFollowTheSeedsEstimates) {
  Rng rng(1);
  for (int i = 0; i < 50; ++i) {
    absl::Duration p = StageDuration(Stage::kPreprocessing, config_, rng);
    EXPECT_GE(p, absl::Minutes(2));
    EXPECT_LE(p, absl::Minutes(5));
    absl::Duration m = StageDuration(Stage::kModelLoading, config_, rng);
    EXPECT_GE(m, absl::Minutes(10));
    EXPECT_LE(m, absl::Minutes(15));
    absl::Duration f = StageDuration(Stage::kFinalization, config_, rng);
    EXPECT_GE(f, absl::Minutes(5));
    EXPECT_LE(f, absl::Minutes(10));
  }
  config_.model_cached = true;
  EXPECT_LE(StageDuration(Stage::kModelLoading, config_, rng),
            absl::Minutes(5));
  config_.stage_time = absl::Seconds(7);
  EXPECT_EQ(StageDuration(Stage::kFinalization, config_, rng),
            absl::Seconds(7));
}

TEST_F(StageScriptTest, TicksCoverEachOperationAndEndAtOneHundred) {
  std::vector<StageOperation> ops =
      StageOperations(Stage::kPreprocessing, config_, model_);
  std::vector<StageTick> ticks =
      StageTicks(ops, absl::Minutes(4), absl::Seconds(30));
  ASSERT_GE(ticks.size(), ops.size() + 1);
  EXPECT_EQ(ticks.front().offset, absl::ZeroDuration());
  EXPECT_EQ(ticks.front().substatus, ops[0].substatus);
  EXPECT_EQ(ticks.back().offset, absl::Minutes(4));
  EXPECT_EQ(ticks.back().progress, 100);
  for (size_t i = 1; i < ticks.size(); ++i) {
    EXPECT_GE(ticks[i].offset, ticks[i - 1].offset);
    EXPECT_GE(ticks[i].progress, ticks[i - 1].progress);
  }
  // "Parsing" spans 20-40% of the stage: it starts after 48 s of 4 min.
  EXPECT_EQ(ticks[2].offset, absl::Seconds(48));
  EXPECT_EQ(ticks[2].progress, 20);
  // Without an interval, one tick per operation plus the last.
  EXPECT_EQ(StageTicks(ops, absl::Minutes(4), absl::ZeroDuration()).size(),
            ops.size() + 1);
}

}  // namespace
}  // namespace trainyard::gpusim
