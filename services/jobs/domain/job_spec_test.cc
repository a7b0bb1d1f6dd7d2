// Copyright 2026 Trainyard authors.
#include "services/jobs/domain/job_spec.h"

#include <string>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::jobs {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::UnorderedElementsAre;
using trainyard::testing::StatusIs;

v1::JobSpec ValidSpec() {
  v1::JobSpec s;
  s.set_display_name("llama-support-bot");
  auto* c = s.mutable_config();
  c->set_base_model("meta-llama/Meta-Llama-3-70B");
  c->mutable_dataset()->set_uri("s3://data/support.jsonl");
  c->mutable_dataset()->set_conversations(10000);
  c->set_gpu_type(common::v1::GPU_TYPE_A100_80GB);
  return s;
}

std::vector<std::string> BadFields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolations(s)) out.push_back(v.field);
  return out;
}

TEST(JobSpec, TotalStepsFormula) {
  // ceil(0.8 x 10000 / (4 x 4)) x 3 = 500 x 3.
  EXPECT_EQ(TotalSteps(10000, 4, 4, 3), 1500);
  // ceil(0.8 x 10 / 16) = ceil(0.5) = 1.
  EXPECT_EQ(TotalSteps(10, 4, 4, 2), 2);
  // Exact: 0.8 x 20 / 16 = 1 (no float rounding up to 2).
  EXPECT_EQ(TotalSteps(20, 4, 4, 1), 1);
  EXPECT_EQ(TotalSteps(21, 4, 4, 1), 2);
}

TEST(JobSpec, DefaultsToBalancedPresetAndServerDefaults) {
  auto out = NormalizeSpec(ValidSpec(), SpecDefaults{}, "spec");
  ASSERT_TRUE(out.ok()) << out.status();
  const auto& c = out->config();
  EXPECT_EQ(c.preset(), common::v1::PRESET_BALANCED);
  EXPECT_EQ(c.hyperparameters().lora_rank(), 16);
  EXPECT_EQ(c.hyperparameters().lora_alpha(), 32);
  EXPECT_DOUBLE_EQ(c.hyperparameters().learning_rate(), 2e-4);
  EXPECT_EQ(c.hyperparameters().epochs(), 3);
  EXPECT_EQ(c.hyperparameters().lr_schedule(), common::v1::LR_SCHEDULE_COSINE);
  EXPECT_DOUBLE_EQ(c.hyperparameters().warmup_ratio(), 0.03);
  EXPECT_EQ(c.hyperparameters().batch_size(), 4);
  EXPECT_EQ(c.hyperparameters().gradient_accumulation_steps(), 4);
  EXPECT_DOUBLE_EQ(c.hyperparameters().lora_dropout(), 0.05);
  EXPECT_EQ(c.quantization(), common::v1::QUANTIZATION_NF4);
  EXPECT_EQ(c.gpu_count(), 1);
  EXPECT_EQ(c.pricing(), common::v1::PRICING_SPOT);
  EXPECT_EQ(c.total_steps(), 1500);
  EXPECT_TRUE(c.custom_fields().empty());
}

TEST(JobSpec, OverridesAreListedAsCustomOnlyWhenTheyDiffer) {
  v1::JobSpec s = ValidSpec();
  s.mutable_config()->set_preset(common::v1::PRESET_AGGRESSIVE);
  auto* h = s.mutable_config()->mutable_hyperparameters();
  h->set_learning_rate(1e-4);  // differs from 3e-4
  h->set_lora_rank(64);        // same as the preset
  h->set_batch_size(8);        // not a preset field
  auto out = NormalizeSpec(s, SpecDefaults{}, "spec");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(out->config().custom_fields(),
              UnorderedElementsAre("learning_rate", "batch_size"));
  EXPECT_EQ(out->config().hyperparameters().lora_alpha(), 128);
  EXPECT_DOUBLE_EQ(out->config().hyperparameters().learning_rate(), 1e-4);
  // ceil(0.8 x 10000 / 32) x 4 = 250 x 4.
  EXPECT_EQ(out->config().total_steps(), 1000);
}

TEST(JobSpec, CustomPresetNamesEveryMissingHyperparameter) {
  v1::JobSpec s = ValidSpec();
  s.mutable_config()->set_preset(common::v1::PRESET_CUSTOM);
  s.mutable_config()->mutable_hyperparameters()->set_lora_rank(4);
  auto out = NormalizeSpec(s, SpecDefaults{}, "spec");
  EXPECT_THAT(out.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BadFields(out.status()),
              UnorderedElementsAre("spec.config.hyperparameters.lora_alpha",
                                   "spec.config.hyperparameters.learning_rate",
                                   "spec.config.hyperparameters.epochs",
                                   "spec.config.hyperparameters.lr_schedule",
                                   "spec.config.hyperparameters.warmup_ratio"));
}

TEST(JobSpec, EveryBadFieldIsNamed) {
  v1::JobSpec s;
  s.add_tags("ok");
  s.add_tags("OK");  // duplicate case-insensitively
  s.add_tags("bad tag");
  s.set_notes(std::string(4001, 'x'));
  s.mutable_budget()->mutable_limit()->set_micros(0);
  s.add_notification_targets()->set_address("ana");  // no channel
  s.add_notification_targets()->set_channel(
      common::v1::NOTIFICATION_CHANNEL_EMAIL);  // no address
  auto* c = s.mutable_config();
  c->mutable_dataset()->set_uri("ftp://x");
  c->set_gpu_count(9);
  auto* h = c->mutable_hyperparameters();
  h->set_lora_rank(0);
  h->set_lora_alpha(2000);
  h->set_lora_dropout(1.0);
  h->set_learning_rate(0.5);
  h->set_epochs(101);
  h->set_warmup_ratio(0.6);
  h->set_batch_size(257);
  h->set_gradient_accumulation_steps(0);
  auto out = NormalizeSpec(s, SpecDefaults{}, "spec");
  EXPECT_THAT(out.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      BadFields(out.status()),
      UnorderedElementsAre(
          "spec.display_name", "spec.tags[1]", "spec.tags[2]", "spec.notes",
          "spec.budget.limit", "spec.notification_targets[0].channel",
          "spec.notification_targets[1].address",
          "spec.config.hyperparameters.lora_rank",
          "spec.config.hyperparameters.lora_alpha",
          "spec.config.hyperparameters.lora_dropout",
          "spec.config.hyperparameters.learning_rate",
          "spec.config.hyperparameters.epochs",
          "spec.config.hyperparameters.warmup_ratio",
          "spec.config.hyperparameters.batch_size",
          "spec.config.hyperparameters.gradient_accumulation_steps",
          "spec.config.base_model", "spec.config.dataset.uri",
          "spec.config.dataset.conversations", "spec.config.gpu_type",
          "spec.config.gpu_count"));
}

TEST(JobSpec, MissingConfigIsNamed) {
  v1::JobSpec s;
  s.set_display_name("x");
  EXPECT_THAT(BadFields(NormalizeSpec(s, SpecDefaults{}, "spec").status()),
              ElementsAre("spec.config"));
}

TEST(JobSpec, BudgetActionDefaultsToAlert) {
  v1::JobSpec s = ValidSpec();
  s.mutable_budget()->mutable_limit()->set_micros(50'000'000);
  auto out = NormalizeSpec(s, SpecDefaults{}, "spec");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->budget().action(), common::v1::BUDGET_ACTION_ALERT);
  EXPECT_EQ(out->budget().limit().currency_code(), "USD");
}

TEST(CancelRequest, R_CAN_01_ReasonRequiredOtherNeedsTextNotesAtMost500) {
  EXPECT_THAT(BadFields(ValidateCancel(v1::CANCEL_REASON_UNSPECIFIED, "", "")),
              ElementsAre("reason"));
  EXPECT_THAT(BadFields(ValidateCancel(v1::CANCEL_REASON_OTHER, "", "")),
              ElementsAre("reason_text"));
  EXPECT_THAT(BadFields(ValidateCancel(v1::CANCEL_REASON_TESTING, "why", "")),
              ElementsAre("reason_text"));
  // 500 code points of a 2-byte character pass; 501 do not.
  std::string notes;
  for (int i = 0; i < 500; ++i) notes += "\xc3\xa9";
  EXPECT_TRUE(ValidateCancel(v1::CANCEL_REASON_TESTING, "", notes).ok());
  EXPECT_THAT(
      BadFields(ValidateCancel(v1::CANCEL_REASON_TESTING, "", notes + "x")),
      ElementsAre("notes"));
  EXPECT_TRUE(ValidateCancel(v1::CANCEL_REASON_OTHER, "client moved", "").ok());
}

}  // namespace
}  // namespace trainyard::jobs
