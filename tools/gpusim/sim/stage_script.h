// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/stage_script.h
// -----------------------------------------------------------------------------
// The status updates of the three stages around training, with the exact
// substatus messages and percent ranges of the seed's FR2.1.2:
//
//   preprocessing  "Downloading training file from storage..."       0-20
//                  "Parsing {n} conversations..."                   20-40
//                  "Tokenizing text with {family} tokenizer..."     40-70
//                  "Creating train/validation split (80/20)..."     70-90
//                  "Validating dataset format..."                   90-100
//   model_loading  "Checking model cache..."                         0-10
//                  "Downloading {model} from Hugging Face Hub..."   10-60
//                    or, cached, "Loading model from cache..."      10-40
//                  "Applying 4-bit quantization (QLoRA)..."         60-80
//                  "Initializing LoRA adapters (rank={r})..."       80-95
//                  "Preparing training pipeline..."                 95-100
//   finalization   "Saving LoRA adapters to storage..."              0-40
//                  "Uploading adapter_model.bin ({size}MB)..."      40-60
//                  "Uploading adapter_config.json..."               60-70
//                  "Calculating final metrics..."                   70-85
//                  "Generating training summary..."                 85-95
//                  "Cleaning up temporary files..."                 95-100
//
// Training's messages depend on the run and are made by PodContainer.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/gpusim/sim/model_profile.h"
#include "tools/gpusim/sim/stage.h"
#include "tools/gpusim/sim/training_config.h"
#include "tools/gpusim/sim/training_curves.h"

namespace trainyard::gpusim {

// One operation of a stage: its substatus and the stage percents it spans.
struct StageOperation {
  std::string substatus;
  double start_percent = 0;
  double end_percent = 0;
};

// One status update: when (from the stage's start), what, how far.
struct StageTick {
  absl::Duration offset;
  std::string substatus;
  double progress = 0;  // stage percent, 0..100
};

// The operations of `stage`, in order. REQUIRES: stage != kTraining.
std::vector<StageOperation> StageOperations(Stage stage,
                                            const TrainingConfig& config,
                                            const ModelProfile& model);

// How long `stage` takes: the seed's estimates (preprocessing 2-5 min, model
// loading 10-15 min or 3-5 min cached, finalization 5-10 min), drawn from
// `rng`, or TRAINYARD_SIM_STAGE_SECONDS. REQUIRES: stage != kTraining.
absl::Duration StageDuration(Stage stage, const TrainingConfig& config,
                             Rng& rng);

// The updates of a stage lasting `duration`: one at the start of each
// operation, more every `interval` within it (0: none), and a last one at
// `duration` with progress 100. Time is shared out in proportion to the
// operations' percent spans. Offsets never decrease.
std::vector<StageTick> StageTicks(const std::vector<StageOperation>& ops,
                                  absl::Duration duration,
                                  absl::Duration interval);

}  // namespace trainyard::gpusim
