// Copyright 2026 Trainyard authors.
//
// The rules of a job specification (domain.md "Job specification"): presets and
// overrides, server defaults, ranges, total steps; and the rules of a cancel
// request (R-CAN-01). Plain functions: no clock, no storage, no gRPC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

// Server defaults for what neither the spec nor its preset sets (configuration,
// not constants; domain.md).
struct SpecDefaults {
  int32_t batch_size = 4;
  int32_t gradient_accumulation_steps = 4;
  double lora_dropout = 0.05;
};

// The preset's hyperparameters (domain.md table). PRESET_CUSTOM and
// PRESET_UNSPECIFIED have none (empty message).
common::v1::Hyperparameters PresetHyperparameters(common::v1::Preset preset);

// ceil(0.8 x conversations / (batch_size x gradient_accumulation_steps)) x
// epochs, in exact integer arithmetic. REQUIRES: all arguments >= 1.
int64_t TotalSteps(int64_t conversations, int32_t batch_size,
                   int32_t gradient_accumulation_steps, int32_t epochs);

// Validates `spec` as CreateJob receives it and returns it normalized: preset
// defaulted to BALANCED, every hyperparameter set (override, else preset, else
// SpecDefaults), custom_fields listing the overrides that differ from the
// preset, quantization NF4, gpu_count 1, pricing SPOT, budget action ALERT,
// total_steps computed. Output-only input fields are ignored.
// Errors: INVALID_ARGUMENT with one BadRequest violation per bad field, named
// by its path under `field_prefix` (e.g. "spec.config.dataset.uri").
absl::StatusOr<v1::JobSpec> NormalizeSpec(const v1::JobSpec& spec,
                                          const SpecDefaults& defaults,
                                          std::string_view field_prefix);

// Validates the mutable part of a spec that UpdateJob may replace (display
// name, tags, notes, budget, notification targets and triggers): the same rules
// as NormalizeSpec for those fields. Returns `spec` with the budget action
// defaulted.
absl::StatusOr<v1::JobSpec> NormalizeMutableSpec(const v1::JobSpec& spec,
                                                 std::string_view field_prefix);

// R-CAN-01: reason required; reason_text 1..200 code points for OTHER and empty
// otherwise; notes <= 500 code points. INVALID_ARGUMENT naming each bad field.
absl::Status ValidateCancel(v1::CancelReason reason,
                            std::string_view reason_text,
                            std::string_view notes);

// Number of Unicode code points of valid UTF-8 `text`.
size_t CodePoints(std::string_view text);

// Where the job's notifications go: its Slack target if it has one, else its
// owner (address = user_id, no channel) through the default sinks.
common::v1::NotificationTarget NotificationTargetOf(const v1::Job& job);

}  // namespace trainyard::jobs
