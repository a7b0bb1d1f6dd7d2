// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/training_config.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "common/webhook/signature.h"
#include "tools/gpusim/sim/env_values.h"

namespace trainyard::gpusim {
namespace {

constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();

std::string Field(std::string_view name) {
  return absl::StrCat("env.", ToAbsl(name));
}

const std::string* Find(const Env& env, std::string_view name) {
  auto it = env.find(std::string(name));
  return it == env.end() ? nullptr : &it->second;
}

absl::Status ReadInt(const Env& env, std::string_view name, int64_t lo,
                     int64_t hi, int64_t* out) {
  if (const std::string* text = Find(env, name)) {
    ASSIGN_OR_RETURN(*out, ParseIntValue(Field(name), *text, lo, hi));
  }
  return absl::OkStatus();
}

absl::Status ReadDouble(const Env& env, std::string_view name, double lo,
                        double hi, double* out) {
  if (const std::string* text = Find(env, name)) {
    ASSIGN_OR_RETURN(*out, ParseDoubleValue(Field(name), *text, lo, hi));
  }
  return absl::OkStatus();
}

absl::Status ReadPositiveDuration(const Env& env, std::string_view name,
                                  std::optional<absl::Duration>* out) {
  if (const std::string* text = Find(env, name)) {
    ASSIGN_OR_RETURN(absl::Duration d, ParseDurationValue(Field(name), *text));
    if (d <= absl::ZeroDuration()) {
      return InvalidFieldError(Field(name), "must be positive");
    }
    *out = d;
  }
  return absl::OkStatus();
}

absl::Status ReadRequired(const Env& env, std::string_view name,
                          std::string* out) {
  const std::string* text = Find(env, name);
  if (text == nullptr || text->empty()) {
    return InvalidFieldError(Field(name), "required");
  }
  *out = *text;
  return absl::OkStatus();
}

}  // namespace

int64_t StepsPerEpoch(int64_t conversations, int64_t batch_size,
                      int64_t grad_accum) {
  // ceil(0.8 c / (b a)) = ceil(4 c / (5 b a)), in integers.
  int64_t denominator = 5 * batch_size * grad_accum;
  int64_t steps = (4 * conversations + denominator - 1) / denominator;
  return steps < 1 ? 1 : steps;
}

int64_t TrainingConfig::StepsPerEpoch() const {
  return gpusim::StepsPerEpoch(dataset_conversations, batch_size, grad_accum);
}

int64_t TrainingConfig::TokensPerConversation() const {
  if (dataset_tokens <= 0) return 1024;
  int64_t per = dataset_tokens / dataset_conversations;
  return per < 1 ? 1 : per;
}

std::string TrainingConfig::CheckpointUriPrefix() const {
  if (!checkpoint_uri.empty()) return checkpoint_uri;
  return absl::StrCat("s3://trainyard-artifacts/", job_id);
}

absl::StatusOr<TrainingConfig> ParseTrainingConfig(const Env& env) {
  TrainingConfig c;
  RETURN_IF_ERROR(ReadRequired(env, "TRAINYARD_JOB_ID", &c.job_id));
  RETURN_IF_ERROR(ReadRequired(env, "TRAINYARD_WEBHOOK_URL", &c.webhook_url));
  if (!absl::StartsWith(c.webhook_url, "http://") &&
      !absl::StartsWith(c.webhook_url, "https://")) {
    return InvalidFieldError(Field("TRAINYARD_WEBHOOK_URL"),
                             "must start with http:// or https://");
  }
  RETURN_IF_ERROR(
      ReadRequired(env, "TRAINYARD_WEBHOOK_SECRET", &c.webhook_secret));
  if (!webhook::Secret::Parse(c.webhook_secret).ok()) {
    return InvalidFieldError(Field("TRAINYARD_WEBHOOK_SECRET"),
                             "must be whsec_ followed by base64");
  }
  if (const std::string* model = Find(env, "TRAINYARD_BASE_MODEL")) {
    if (model->empty()) {
      return InvalidFieldError(Field("TRAINYARD_BASE_MODEL"),
                               "must not be empty");
    }
    c.base_model = *model;
  }
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_DATASET_CONVERSATIONS", 1,
                          100'000'000, &c.dataset_conversations));
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_DATASET_TOKENS", 0, int64_t{1} << 50,
                          &c.dataset_tokens));
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_EPOCHS", 1, 1000, &c.epochs));
  RETURN_IF_ERROR(
      ReadInt(env, "TRAINYARD_BATCH_SIZE", 1, 65536, &c.batch_size));
  RETURN_IF_ERROR(
      ReadInt(env, "TRAINYARD_GRAD_ACCUM", 1, 65536, &c.grad_accum));
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_LORA_RANK", 1, 4096, &c.lora_rank));
  RETURN_IF_ERROR(
      ReadInt(env, "TRAINYARD_LORA_ALPHA", 1, 65536, &c.lora_alpha));
  if (c.lora_alpha == 0) c.lora_alpha = 2 * c.lora_rank;
  RETURN_IF_ERROR(
      ReadDouble(env, "TRAINYARD_LEARNING_RATE", 1e-9, 1.0, &c.learning_rate));
  if (const std::string* schedule = Find(env, "TRAINYARD_LR_SCHEDULE")) {
    if (*schedule != "cosine" && *schedule != "linear" &&
        *schedule != "constant") {
      return InvalidFieldError(Field("TRAINYARD_LR_SCHEDULE"),
                               "must be cosine, linear or constant");
    }
    c.lr_schedule = *schedule;
  }
  RETURN_IF_ERROR(
      ReadDouble(env, "TRAINYARD_WARMUP_RATIO", 0, 0.5, &c.warmup_ratio));
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_ATTEMPT", 1, kMaxInt, &c.attempt));
  RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_CHECKPOINT_EVERY", 1, kMaxInt,
                          &c.checkpoint_every));
  if (const std::string* cached = Find(env, "TRAINYARD_MODEL_CACHED")) {
    ASSIGN_OR_RETURN(c.model_cached,
                     ParseBoolValue(Field("TRAINYARD_MODEL_CACHED"), *cached));
  }
  if (const std::string* uri = Find(env, "TRAINYARD_CHECKPOINT_URI")) {
    c.checkpoint_uri = *uri;
  }
  RETURN_IF_ERROR(
      ReadPositiveDuration(env, "TRAINYARD_SIM_STEP_SECONDS", &c.step_time));
  RETURN_IF_ERROR(
      ReadPositiveDuration(env, "TRAINYARD_SIM_STAGE_SECONDS", &c.stage_time));
  if (Find(env, "TRAINYARD_SEED") != nullptr) {
    int64_t seed = 0;
    RETURN_IF_ERROR(ReadInt(env, "TRAINYARD_SEED", 0,
                            std::numeric_limits<int64_t>::max(), &seed));
    c.seed = static_cast<uint64_t>(seed);
  }
  // The resume step is checked against the run's length, known only now.
  RETURN_IF_ERROR(
      ReadInt(env, "TRAINYARD_RESUME_STEP", 0, c.TotalSteps(), &c.resume_step));
  return c;
}

}  // namespace trainyard::gpusim
