// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/stage.h
// -----------------------------------------------------------------------------
// The four stages of a training run (seed FR2.1.2), named as the webhook
// contract names them ("preprocessing", "model_loading", "training",
// "finalization").
#pragma once

#include <optional>
#include <string_view>

namespace trainyard::gpusim {

enum class Stage { kPreprocessing, kModelLoading, kTraining, kFinalization };

inline constexpr Stage kStages[] = {Stage::kPreprocessing, Stage::kModelLoading,
                                    Stage::kTraining, Stage::kFinalization};

// The webhook name of `stage`.
std::string_view StageName(Stage stage);

// The stage named `name` (a webhook name), or nullopt.
std::optional<Stage> ParseStage(std::string_view name);

}  // namespace trainyard::gpusim
