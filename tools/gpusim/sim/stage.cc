// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/stage.h"

namespace trainyard::gpusim {

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kPreprocessing:
      return "preprocessing";
    case Stage::kModelLoading:
      return "model_loading";
    case Stage::kTraining:
      return "training";
    case Stage::kFinalization:
      return "finalization";
  }
  return "";
}

std::optional<Stage> ParseStage(std::string_view name) {
  for (Stage stage : kStages) {
    if (StageName(stage) == name) return stage;
  }
  return std::nullopt;
}

}  // namespace trainyard::gpusim
