// Copyright 2026 Trainyard authors.
#include "services/jobs/provider/pod_env.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace trainyard::jobs {

std::map<std::string, std::string> PodEnv(const PodEnvInput& in) {
  const auto& c = in.config;
  const auto& h = c.hyperparameters();
  std::string schedule = common::v1::LrSchedule_Name(h.lr_schedule())
                             .substr(sizeof("LR_SCHEDULE_") - 1);
  std::map<std::string, std::string> env = {
      {"TRAINYARD_JOB_ID", in.job_id},
      {"TRAINYARD_WEBHOOK_URL",
       absl::StrCat(absl::StripSuffix(in.webhook_base_url, "/"),
                    "/v1/webhooks/runpod/", in.job_id)},
      {"TRAINYARD_WEBHOOK_SECRET", in.webhook_secret},
      {"TRAINYARD_BASE_MODEL", c.base_model()},
      {"TRAINYARD_DATASET_CONVERSATIONS",
       absl::StrCat(c.dataset().conversations())},
      {"TRAINYARD_EPOCHS", absl::StrCat(h.epochs())},
      {"TRAINYARD_BATCH_SIZE", absl::StrCat(h.batch_size())},
      {"TRAINYARD_GRAD_ACCUM", absl::StrCat(h.gradient_accumulation_steps())},
      {"TRAINYARD_LORA_RANK", absl::StrCat(h.lora_rank())},
      {"TRAINYARD_LORA_ALPHA", absl::StrCat(h.lora_alpha())},
      {"TRAINYARD_LEARNING_RATE", absl::StrCat(h.learning_rate())},
      {"TRAINYARD_LR_SCHEDULE", absl::AsciiStrToLower(schedule)},
      {"TRAINYARD_WARMUP_RATIO", absl::StrCat(h.warmup_ratio())},
      {"TRAINYARD_ATTEMPT", absl::StrCat(in.attempt)},
      {"TRAINYARD_RESUME_STEP", absl::StrCat(in.resume_step)},
  };
  if (c.dataset().total_tokens() > 0) {
    env["TRAINYARD_DATASET_TOKENS"] = absl::StrCat(c.dataset().total_tokens());
  }
  return env;
}

}  // namespace trainyard::jobs
