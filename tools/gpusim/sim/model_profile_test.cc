// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/model_profile.h"

#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

TEST(ModelProfileTest, ReadsHuggingFaceNames) {
  ModelProfile p = ModelProfile::FromName("meta-llama/Meta-Llama-3-70B");
  EXPECT_EQ(p.family, "Llama 3");
  EXPECT_EQ(p.size, "70B");
  EXPECT_EQ(p.DisplayName(), "Llama 3 70B");
  EXPECT_DOUBLE_EQ(p.params_billions, 70);
  EXPECT_EQ(p.hidden, 8192);
  p = ModelProfile::FromName("meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(p.DisplayName(), "Llama 3.1 8B");
  p = ModelProfile::FromName("mistralai/Mixtral-8x7B-v0.1");
  EXPECT_EQ(p.family, "Mixtral");
  EXPECT_NEAR(p.params_billions, 46.5, 1);
  p = ModelProfile::FromName("some-model");
  EXPECT_EQ(p.family, "some model");
  EXPECT_DOUBLE_EQ(p.params_billions, 8);
}

TEST(ModelProfileTest, SizesAreOfTheRightOrder) {
  ModelProfile big = ModelProfile::FromName("meta-llama/Meta-Llama-3-70B");
  ModelProfile small = ModelProfile::FromName("meta-llama/Meta-Llama-3-8B");
  // Llama 3 70B, rank 16 on every linear layer: ~207M parameters.
  EXPECT_NEAR(static_cast<double>(big.LoraParams(16)), 207e6, 5e6);
  EXPECT_GT(big.AdapterBytes(16), small.AdapterBytes(16));
  EXPECT_GT(big.AdapterBytes(64), big.AdapterBytes(16));
  EXPECT_GT(big.CheckpointBytes(16), big.AdapterBytes(16));
  // QLoRA 70B fits one 80 GB GPU; 8B fits a 24 GB one.
  int64_t need70 = big.MemoryBytes(16, 4, 1024, 1);
  EXPECT_GT(need70, 40 * kGiB);
  EXPECT_LT(need70, 80 * kGiB);
  EXPECT_LT(small.MemoryBytes(16, 4, 1024, 1), 24 * kGiB);
  EXPECT_LT(big.MemoryBytes(16, 4, 1024, 2), need70);
  const GpuType& h100 = *FindGpuType("NVIDIA H100 80GB HBM3");
  const GpuType& a6000 = *FindGpuType("NVIDIA RTX A6000");
  EXPECT_NEAR(big.TokensPerSecond(h100, 1), 1250, 1);
  EXPECT_GT(big.TokensPerSecond(h100, 1), big.TokensPerSecond(a6000, 1));
  EXPECT_GT(small.TokensPerSecond(h100, 1), big.TokensPerSecond(h100, 1));
  EXPECT_GT(big.TokensPerSecond(h100, 2), big.TokensPerSecond(h100, 1));
}

}  // namespace
}  // namespace trainyard::gpusim
