// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/stage_script.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace trainyard::gpusim {
namespace {

absl::Duration Minutes(Rng& rng, double lo, double hi) {
  return absl::Seconds(
      std::round(60 * std::uniform_real_distribution<double>(lo, hi)(rng)));
}

}  // namespace

std::vector<StageOperation> StageOperations(Stage stage,
                                            const TrainingConfig& config,
                                            const ModelProfile& model) {
  switch (stage) {
    case Stage::kPreprocessing:
      return {
          {"Downloading training file from storage...", 0, 20},
          {absl::StrCat("Parsing ", config.dataset_conversations,
                        " conversations..."),
           20, 40},
          {absl::StrCat("Tokenizing text with ", model.family, " tokenizer..."),
           40, 70},
          {"Creating train/validation split (80/20)...", 70, 90},
          {"Validating dataset format...", 90, 100},
      };
    case Stage::kModelLoading: {
      std::vector<StageOperation> ops = {{"Checking model cache...", 0, 10}};
      if (config.ModelCached()) {
        ops.push_back({"Loading model from cache...", 10, 40});
      } else {
        ops.push_back({absl::StrCat("Downloading ", model.DisplayName(),
                                    " from Hugging Face Hub..."),
                       10, 60});
      }
      ops.push_back({"Applying 4-bit quantization (QLoRA)...", 60, 80});
      ops.push_back({absl::StrCat("Initializing LoRA adapters (rank=",
                                  config.lora_rank, ")..."),
                     80, 95});
      ops.push_back({"Preparing training pipeline...", 95, 100});
      return ops;
    }
    case Stage::kFinalization: {
      int64_t mb = static_cast<int64_t>(std::llround(
          static_cast<double>(model.AdapterBytes(config.lora_rank)) /
          (1 << 20)));
      return {
          {"Saving LoRA adapters to storage...", 0, 40},
          {absl::StrCat("Uploading adapter_model.bin (", mb, "MB)..."), 40, 60},
          {"Uploading adapter_config.json...", 60, 70},
          {"Calculating final metrics...", 70, 85},
          {"Generating training summary...", 85, 95},
          {"Cleaning up temporary files...", 95, 100},
      };
    }
    case Stage::kTraining:
      break;
  }
  return {};
}

absl::Duration StageDuration(Stage stage, const TrainingConfig& config,
                             Rng& rng) {
  if (config.stage_time) return *config.stage_time;
  switch (stage) {
    case Stage::kPreprocessing:
      return Minutes(rng, 2, 5);
    case Stage::kModelLoading:
      return config.ModelCached() ? Minutes(rng, 3, 5) : Minutes(rng, 10, 15);
    case Stage::kFinalization:
      return Minutes(rng, 5, 10);
    case Stage::kTraining:
      break;
  }
  return absl::ZeroDuration();
}

std::vector<StageTick> StageTicks(const std::vector<StageOperation>& ops,
                                  absl::Duration duration,
                                  absl::Duration interval) {
  std::vector<StageTick> ticks;
  double total_span = 0;
  for (const StageOperation& op : ops) {
    total_span += op.end_percent - op.start_percent;
  }
  if (ops.empty() || total_span <= 0) return ticks;
  absl::Duration start = absl::ZeroDuration();
  for (const StageOperation& op : ops) {
    double span = op.end_percent - op.start_percent;
    absl::Duration length = duration * (span / total_span);
    ticks.push_back({start, op.substatus, op.start_percent});
    if (interval > absl::ZeroDuration()) {
      for (absl::Duration t = interval; t < length; t += interval) {
        double fraction = absl::FDivDuration(t, length);
        ticks.push_back(
            {start + t, op.substatus, op.start_percent + fraction * span});
      }
    }
    start += length;
  }
  ticks.push_back({duration, ops.back().substatus, 100});
  return ticks;
}

}  // namespace trainyard::gpusim
