// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/training_curves.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace trainyard::gpusim {
namespace {

double Uniform(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

double Normal(Rng& rng, double sigma) {
  return std::normal_distribution<double>(0.0, sigma)(rng);
}

}  // namespace

TrainingCurves::TrainingCurves(const TrainingConfig& config,
                               const ModelProfile& model, const GpuType& gpu,
                               int gpu_count, uint64_t shape_seed)
    : config_(config),
      model_(model),
      gpu_(gpu),
      gpu_count_(gpu_count),
      total_steps_(config.TotalSteps()),
      warmup_steps_(static_cast<int64_t>(
          std::ceil(config.warmup_ratio * static_cast<double>(total_steps_)))) {
  Rng shape(shape_seed);
  start_loss_ = Uniform(shape, 1.9, 2.4);
  // Bigger models and ranks reach lower floors.
  floor_loss_ =
      Uniform(shape, 0.28, 0.38) *
      std::pow(70.0 / model.params_billions, 0.08) *
      (1.0 - 0.02 * std::log2(static_cast<double>(config.lora_rank) / 16.0));
  floor_loss_ = std::clamp(floor_loss_, 0.12, 1.0);
  // A higher learning rate gets there faster.
  tau_ = std::max(3.0, 0.02 * static_cast<double>(total_steps_)) *
         std::clamp(2e-4 / config.learning_rate, 0.25, 4.0);
  alpha_ = Uniform(shape, 0.65, 0.9);
}

double TrainingCurves::LearningRate(int64_t step) const {
  double peak = config_.learning_rate;
  if (step < warmup_steps_) {
    return peak * static_cast<double>(step) /
           static_cast<double>(warmup_steps_);
  }
  int64_t decay_steps = std::max<int64_t>(1, total_steps_ - warmup_steps_);
  double p = std::clamp(static_cast<double>(step - warmup_steps_) /
                            static_cast<double>(decay_steps),
                        0.0, 1.0);
  if (config_.lr_schedule == "linear") return peak * (1.0 - p);
  if (config_.lr_schedule == "constant") return peak;
  return peak * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
}

double TrainingCurves::ExpectedLoss(int64_t step) const {
  double s = static_cast<double>(std::max<int64_t>(step, 0));
  double loss = floor_loss_ +
                (start_loss_ - floor_loss_) * std::pow(1.0 + s / tau_, -alpha_);
  // Each epoch seen again lowers the training loss a little.
  int64_t per_epoch = config_.StepsPerEpoch();
  int64_t epochs_done = step > 0 ? (step - 1) / per_epoch : 0;
  return loss * std::pow(0.96, static_cast<double>(epochs_done));
}

double TrainingCurves::TrainLoss(int64_t step, Rng& rng) const {
  double loss = ExpectedLoss(step) * std::exp(Normal(rng, 0.04));
  if (Uniform(rng, 0, 1) < 0.01) loss *= Uniform(rng, 1.15, 1.4);  // spike
  return loss;
}

double TrainingCurves::ValLoss(int epoch, int64_t step, Rng& rng) const {
  double gap = 1.04 + 0.05 * (epoch - 1);
  return ExpectedLoss(step) * gap * std::exp(Normal(rng, 0.01));
}

double TrainingCurves::GradNorm(int64_t step, Rng& rng) const {
  double s = static_cast<double>(std::max<int64_t>(step, 0));
  return (0.3 + 1.2 * std::pow(1.0 + s / tau_, -0.5)) *
         std::exp(Normal(rng, 0.15));
}

int64_t TrainingCurves::MemoryNeeded() const {
  int64_t seq_len = std::min<int64_t>(config_.TokensPerConversation(), 8192);
  return model_.MemoryBytes(config_.lora_rank, config_.batch_size, seq_len,
                            gpu_count_);
}

GpuSample TrainingCurves::SampleGpu(Rng& rng, bool busy_dip) const {
  GpuSample g;
  bool dip = busy_dip || Uniform(rng, 0, 1) < 0.04;
  g.utilization = dip ? Uniform(rng, 0.45, 0.78)
                      : std::clamp(0.88 + Normal(rng, 0.03), 0.80, 0.95);
  g.memory_total_bytes = gpu_.memory_bytes;
  double used =
      static_cast<double>(MemoryNeeded()) * (1.0 + Uniform(rng, -0.01, 0.01));
  g.memory_used_bytes = static_cast<int64_t>(
      std::min(used, 0.97 * static_cast<double>(gpu_.memory_bytes)));
  g.tokens_per_second = model_.TokensPerSecond(gpu_, gpu_count_) *
                        (g.utilization / 0.88) *
                        (1.0 + Uniform(rng, -0.03, 0.03));
  return g;
}

absl::Duration TrainingCurves::StepTime(double tokens_per_second) const {
  if (config_.step_time) return *config_.step_time;
  double tokens = static_cast<double>(config_.batch_size * config_.grad_accum *
                                      config_.TokensPerConversation());
  return absl::Seconds(tokens / std::max(tokens_per_second, 1.0));
}

}  // namespace trainyard::gpusim
