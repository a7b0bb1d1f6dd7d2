// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/training_config.h
// -----------------------------------------------------------------------------
// What a simulated training container reads from its environment: the job,
// where and how to report it, and the training hyperparameters. The variable
// names are the contract between job-control (which provisions the pod) and
// the container; tools/gpusim/README.md lists them with their defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trainyard::gpusim {

// A pod's environment, as POST /v2/pods gives it ("env": {"K": "V"}).
using Env = std::map<std::string, std::string>;

struct TrainingConfig {
  std::string job_id;          // TRAINYARD_JOB_ID (required)
  std::string webhook_url;     // TRAINYARD_WEBHOOK_URL (required, http[s]://)
  std::string webhook_secret;  // TRAINYARD_WEBHOOK_SECRET (required, whsec_)
  std::string base_model = "meta-llama/Meta-Llama-3-8B";  // ..._BASE_MODEL
  int64_t dataset_conversations = 1000;  // TRAINYARD_DATASET_CONVERSATIONS
  // TRAINYARD_DATASET_TOKENS; 0: 1,024 tokens per conversation.
  int64_t dataset_tokens = 0;
  int64_t epochs = 3;                  // TRAINYARD_EPOCHS
  int64_t batch_size = 4;              // TRAINYARD_BATCH_SIZE
  int64_t grad_accum = 4;              // TRAINYARD_GRAD_ACCUM
  int64_t lora_rank = 16;              // TRAINYARD_LORA_RANK
  int64_t lora_alpha = 0;              // TRAINYARD_LORA_ALPHA; 0: 2 x rank
  double learning_rate = 2e-4;         // TRAINYARD_LEARNING_RATE (peak)
  std::string lr_schedule = "cosine";  // TRAINYARD_LR_SCHEDULE
  double warmup_ratio = 0.03;          // TRAINYARD_WARMUP_RATIO
  int64_t resume_step = 0;             // TRAINYARD_RESUME_STEP
  int64_t attempt = 1;                 // TRAINYARD_ATTEMPT
  // TRAINYARD_MODEL_CACHED; unset: cached on attempts after the first.
  std::optional<bool> model_cached;
  int64_t checkpoint_every = 100;  // TRAINYARD_CHECKPOINT_EVERY
  // TRAINYARD_CHECKPOINT_URI; empty: s3://trainyard-artifacts/<job_id>.
  std::string checkpoint_uri;
  // TRAINYARD_SIM_STEP_SECONDS: fixed simulated seconds per optimizer step
  // instead of the GPU/model throughput model.
  std::optional<absl::Duration> step_time;
  // TRAINYARD_SIM_STAGE_SECONDS: every non-training stage lasts this long
  // instead of the seed's estimates (preprocessing 2-5 min, ...).
  std::optional<absl::Duration> stage_time;
  // TRAINYARD_SEED: seeds this pod's randomness; unset: derived from the
  // cloud's --seed and the pod.
  std::optional<uint64_t> seed;

  int64_t StepsPerEpoch() const;
  int64_t TotalSteps() const { return StepsPerEpoch() * epochs; }
  bool ModelCached() const { return model_cached.value_or(attempt > 1); }
  int64_t TokensPerConversation() const;
  std::string CheckpointUriPrefix() const;
};

// ceil(0.8 x conversations / (batch_size x grad_accum)): the optimizer steps
// of one epoch over the 80% training split (domain.md). At least 1.
// REQUIRES: all arguments > 0.
int64_t StepsPerEpoch(int64_t conversations, int64_t batch_size,
                      int64_t grad_accum);

// Reads the TRAINYARD_* variables of `env` (others are ignored). Errors are
// kInvalidArgument with a field violation naming "env.<VARIABLE>": a required
// variable missing, a number that does not parse or is out of range, an
// unknown schedule, a resume step past the end.
absl::StatusOr<TrainingConfig> ParseTrainingConfig(const Env& env);

}  // namespace trainyard::gpusim
