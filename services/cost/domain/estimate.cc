// Copyright 2026 Trainyard authors.
#include "services/cost/domain/estimate.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/money.h"

namespace trainyard::cost {
namespace {

using common::v1::TrainingConfig;

struct PresetValues {
  int rank;
  int alpha;
  double learning_rate;
  int epochs;
};

PresetValues PresetOf(common::v1::Preset preset) {
  switch (preset) {
    case common::v1::PRESET_CONSERVATIVE:
      return {8, 16, 1e-4, 2};
    case common::v1::PRESET_AGGRESSIVE:
      return {64, 128, 3e-4, 4};
    default:
      return {16, 32, 2e-4, 3};
  }
}

double QuantizationFactor(common::v1::Quantization q) {
  switch (q) {
    case common::v1::QUANTIZATION_NONE:
      return 0.85;  // no dequantization work, more memory traffic
    case common::v1::QUANTIZATION_INT8:
      return 1.1;
    default:
      return 1.0;  // NF4 (QLoRA), the default
  }
}

// Reference: a 7B NF4 model, rank 16, effective batch 16 of 512-token
// samples, takes 1.2 s per step on one H100.
constexpr double kReferenceSecondsPerStep = 1.2;
constexpr double kReferenceTokensPerSample = 512;

}  // namespace

common::v1::Hyperparameters EffectiveHyperparameters(
    const TrainingConfig& config) {
  const PresetValues preset = PresetOf(config.preset());
  common::v1::Hyperparameters h = config.hyperparameters();
  if (!h.has_lora_rank()) h.set_lora_rank(preset.rank);
  if (!h.has_lora_alpha()) h.set_lora_alpha(preset.alpha);
  if (!h.has_learning_rate()) h.set_learning_rate(preset.learning_rate);
  if (!h.has_epochs()) h.set_epochs(preset.epochs);
  if (!h.has_batch_size()) h.set_batch_size(4);
  if (!h.has_gradient_accumulation_steps()) {
    h.set_gradient_accumulation_steps(4);
  }
  return h;
}

int64_t TotalSteps(const TrainingConfig& config) {
  const common::v1::Hyperparameters h = EffectiveHyperparameters(config);
  const int64_t per_step =
      int64_t{h.batch_size()} * h.gradient_accumulation_steps();
  const int64_t conversations = config.dataset().conversations();
  if (per_step <= 0 || conversations <= 0) return 0;
  // ceil(0.8 x c / p) = ceil(8c / 10p), in integers.
  const int64_t per_epoch =
      (8 * conversations + 10 * per_step - 1) / (10 * per_step);
  return per_epoch * h.epochs();
}

double ModelBillions(const std::string& base_model) {
  // The last "<number>B" token, e.g. "Llama-3.1-8B-Instruct" -> 8.
  double found = 0;
  for (size_t i = 0; i < base_model.size(); ++i) {
    if (base_model[i] != 'B' && base_model[i] != 'b') continue;
    const bool ends =
        i + 1 == base_model.size() ||
        !std::isalnum(static_cast<unsigned char>(base_model[i + 1]));
    size_t start = i;
    while (start > 0 &&
           (std::isdigit(static_cast<unsigned char>(base_model[start - 1])) ||
            base_model[start - 1] == '.')) {
      --start;
    }
    double value = 0;
    if (ends && start < i &&
        absl::SimpleAtod(base_model.substr(start, i - start), &value) &&
        value > 0) {
      found = value;
    }
  }
  return found > 0 ? found : 7;
}

double GpuSpeed(common::v1::GpuType type) {
  switch (type) {
    case common::v1::GPU_TYPE_H100_80GB:
      return 1.0;
    case common::v1::GPU_TYPE_A100_80GB:
      return 0.62;
    case common::v1::GPU_TYPE_L40S:
      return 0.45;
    case common::v1::GPU_TYPE_RTX_4090:
      return 0.40;
    case common::v1::GPU_TYPE_RTX_A6000:
      return 0.30;
    default:
      return 0.5;
  }
}

double ModelSecondsPerStep(const TrainingConfig& config) {
  const common::v1::Hyperparameters h = EffectiveHyperparameters(config);
  double tokens_factor = 1;
  if (config.dataset().total_tokens() > 0 &&
      config.dataset().conversations() > 0) {
    tokens_factor = std::clamp(
        static_cast<double>(config.dataset().total_tokens()) /
            config.dataset().conversations() / kReferenceTokensPerSample,
        0.1, 16.0);
  }
  const double size = std::max(ModelBillions(config.base_model()) / 7, 0.2);
  const double rank = 1 + h.lora_rank() / 256.0;
  const double batch = h.batch_size() * h.gradient_accumulation_steps() / 16.0;
  const int gpus = std::max(config.gpu_count(), 1);
  return kReferenceSecondsPerStep * size * rank * batch * tokens_factor *
         QuantizationFactor(config.quantization()) /
         (GpuSpeed(config.gpu_type()) * std::pow(gpus, 0.9));
}

std::string CalibrationKey(const TrainingConfig& config) {
  const common::v1::Hyperparameters h = EffectiveHyperparameters(config);
  return absl::StrCat(
      common::v1::GpuType_Name(config.gpu_type()), "|",
      std::max(config.gpu_count(), 1), "|",
      absl::StrFormat("%.1f", ModelBillions(config.base_model())), "|",
      config.quantization(), "|", h.lora_rank(), "|",
      h.batch_size() * h.gradient_accumulation_steps());
}

v1::CostEstimate Estimate(const EstimateInput& in) {
  v1::CostEstimate out;
  const int64_t total = TotalSteps(in.config);
  const int64_t remaining = std::max<int64_t>(total - in.from_step, 0);
  double sps = ModelSecondsPerStep(in.config);
  double overhead = kModelOverheadSeconds;
  double spread = kModelSpread;
  out.set_basis(v1::ESTIMATE_BASIS_MODEL);
  if (in.observed_seconds_per_step.has_value() &&
      *in.observed_seconds_per_step > 0) {
    sps = *in.observed_seconds_per_step;
    spread = kCalibratedSpread;
    out.set_basis(v1::ESTIMATE_BASIS_OBSERVED_SPEED);
    out.add_assumptions(
        absl::StrFormat("Measured speed of this job: %.2f s/step", sps));
  } else if (in.history.has_value() && in.history->count > 0) {
    sps = in.history->seconds_per_step;
    overhead = in.history->overhead_seconds;
    spread = kCalibratedSpread;
    out.set_basis(v1::ESTIMATE_BASIS_HISTORY);
    out.set_history_sample_count(in.history->count);
    out.add_assumptions(absl::StrFormat(
        "Calibrated from %d completed run(s) of a similar configuration",
        in.history->count));
  } else {
    out.add_assumptions(
        "No completed runs of a similar configuration: throughput model, "
        "wider range (+25%)");
  }
  const bool spot = in.config.pricing() != common::v1::PRICING_ON_DEMAND;
  if (spot) {
    out.add_assumptions("Spot: +15% for possible interruptions");
  }
  const double low_seconds = remaining * sps + overhead;
  const double high_seconds =
      low_seconds * (1 + spread + (spot ? kSpotAllowance : 0));
  const int64_t low_ms = std::llround(low_seconds * 1000);
  const int64_t high_ms = std::llround(high_seconds * 1000);
  *out.mutable_duration()->mutable_min() = ToProto(absl::Milliseconds(low_ms));
  *out.mutable_duration()->mutable_max() = ToProto(absl::Milliseconds(high_ms));
  auto money = [&](int64_t micros) {
    common::v1::Money m;
    m.set_currency_code(in.currency);
    m.set_micros(micros);
    return m;
  };
  *out.mutable_cost()->mutable_low() =
      money(ComputeAmountMicros(in.hourly_rate_micros, low_ms));
  *out.mutable_cost()->mutable_high() =
      money(ComputeAmountMicros(in.hourly_rate_micros, high_ms));
  *out.mutable_hourly_rate() = money(in.hourly_rate_micros);
  out.set_total_steps(total);
  out.set_remaining_steps(remaining);
  out.set_seconds_per_step(sps);
  return out;
}

}  // namespace trainyard::cost
