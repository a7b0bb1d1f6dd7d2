// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/training_curves.h
// -----------------------------------------------------------------------------
// The numbers a LoRA fine-tuning run reports, step by step:
//   * training loss falling as a noisy power law toward a floor, with a small
//     drop at each epoch boundary and rare spikes;
//   * validation loss after each epoch, a few percent above the smoothed
//     training loss, the gap widening with each epoch (mild overfitting);
//   * learning rate: linear warmup, then cosine (or linear, or constant);
//   * gradient norm shrinking with the loss;
//   * GPU utilization 80-95% with occasional dips, memory from the model,
//     rank and batch, tokens/s from the GPU type and model size.
//
// The shape of a run (start loss, floor, speed) is fixed by `shape_seed`, and
// the noise-free values depend only on the global step, so a resumed attempt
// continues the same curve. Noise comes from the caller's Rng.
//
// Thread-compatible: const methods only read; the Rng is the caller's.
#pragma once

#include <cstdint>
#include <random>

#include "tools/gpusim/sim/gpu_catalog.h"
#include "tools/gpusim/sim/model_profile.h"
#include "tools/gpusim/sim/training_config.h"

namespace trainyard::gpusim {

using Rng = std::mt19937_64;

struct GpuSample {
  double utilization = 0;  // 0..1
  int64_t memory_used_bytes = 0;
  int64_t memory_total_bytes = 0;
  double tokens_per_second = 0;
};

class TrainingCurves {
 public:
  // `config`, `model` and `gpu` must outlive the curves.
  TrainingCurves(const TrainingConfig& config, const ModelProfile& model,
                 const GpuType& gpu, int gpu_count, uint64_t shape_seed);

  // Learning rate in effect at optimizer step `step` (1-based).
  double LearningRate(int64_t step) const;
  // The noise-free training loss after `step` steps.
  double ExpectedLoss(int64_t step) const;
  // Training loss reported at `step`: ExpectedLoss with noise and rare
  // spikes.
  double TrainLoss(int64_t step, Rng& rng) const;
  // Validation loss at the end of `epoch` (1-based), whose last step is
  // `step`. Always above ExpectedLoss(step).
  double ValLoss(int epoch, int64_t step, Rng& rng) const;
  double GradNorm(int64_t step, Rng& rng) const;
  // One reading of the GPUs. `busy_dip` forces a dip (checkpoint save,
  // validation).
  GpuSample SampleGpu(Rng& rng, bool busy_dip = false) const;
  // How long one optimizer step takes at `tokens_per_second`; the fixed
  // TRAINYARD_SIM_STEP_SECONDS when configured.
  absl::Duration StepTime(double tokens_per_second) const;

  // Peak memory of one GPU, and that GPU's capacity.
  int64_t MemoryNeeded() const;
  int64_t MemoryTotal() const { return gpu_.memory_bytes; }
  int64_t TotalSteps() const { return total_steps_; }

 private:
  const TrainingConfig& config_;
  const ModelProfile& model_;
  const GpuType& gpu_;
  const int gpu_count_;
  const int64_t total_steps_;
  const int64_t warmup_steps_;
  // Shape: loss(s) = floor + (start - floor) * (1 + s / tau)^-alpha.
  double start_loss_ = 2.2;
  double floor_loss_ = 0.35;
  double tau_ = 20;
  double alpha_ = 0.75;
};

}  // namespace trainyard::gpusim
