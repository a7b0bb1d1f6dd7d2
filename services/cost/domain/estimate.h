// Copyright 2026 Trainyard authors.
//
// The estimate model (domain.md "Cost"): total steps x seconds per step for the
// configuration + stage overheads, priced at the pod's hourly rate. Low = the
// model's figure; high = low + a spread for throughput variance (narrower once
// completed runs of a similar configuration calibrate the model) + for spot an
// interruption allowance. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trainyard/common/v1/common.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// The hyperparameters a config runs with: the preset's values where the config
// leaves them unset, batch 4 and gradient accumulation 4 by default.
common::v1::Hyperparameters EffectiveHyperparameters(
    const common::v1::TrainingConfig& config);

// ceil(0.8 x conversations / (batch x gradient accumulation)) x epochs.
int64_t TotalSteps(const common::v1::TrainingConfig& config);

// Billions of parameters named in a model id ("Meta-Llama-3-70B" -> 70); 7
// when the id names none.
double ModelBillions(const std::string& base_model);

// The model's seconds per step on `config`'s GPU type and count.
double ModelSecondsPerStep(const common::v1::TrainingConfig& config);

// Relative speed of a GPU type (H100 = 1, slower types below 1).
double GpuSpeed(common::v1::GpuType type);

// Stage overheads (preprocessing + model loading + finalization) in seconds.
inline constexpr double kModelOverheadSeconds = (3.5 + 12.5 + 7.5) * 60;

// A completed run whose overhead (its time beyond steps x seconds per step:
// stages, and any stall) is over this does not calibrate estimates: a run
// that stalled for hours (a provider outage, the control plane down while
// the pod billed) says nothing about the next one, and one such sample made
// every estimate of its configuration hours long. Its cost still counts.
inline constexpr double kMaxCalibrationOverheadSeconds =
    4 * kModelOverheadSeconds;

// Configurations whose runs calibrate each other: GPU type, model size,
// quantization, LoRA rank and effective batch.
std::string CalibrationKey(const common::v1::TrainingConfig& config);

// What completed runs of the configuration measured (means).
struct HistoryStats {
  int count = 0;
  double seconds_per_step = 0;
  double overhead_seconds = 0;
};

struct EstimateInput {
  common::v1::TrainingConfig config;
  int64_t from_step = 0;
  int64_t hourly_rate_micros = 0;
  std::string currency = "USD";
  std::optional<HistoryStats> history;
  // The job's own measured speed, already scaled to config's GPU type.
  std::optional<double> observed_seconds_per_step;
};

// Spread of high above low without history, with history, for spot.
inline constexpr double kModelSpread = 0.25;
inline constexpr double kCalibratedSpread = 0.10;
inline constexpr double kSpotAllowance = 0.15;

v1::CostEstimate Estimate(const EstimateInput& input);

}  // namespace trainyard::cost
