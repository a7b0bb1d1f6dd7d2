// Copyright 2026 Trainyard authors.
//
// The rate card's rules: defaults (domain.md), validation of a change, and the
// price of a pod. Every version of the card is kept (storage/); a meter locks
// the rate of the version in force when it opens. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/cost/domain/rejection.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// A rate may change by at most this factor (up or down) without `force`.
inline constexpr int64_t kMaxRateChangeFactor = 10;
// Rates above this ($1,000/GPU-hour, $1,000/GB-month) are absurd.
inline constexpr int64_t kMaxRateMicros = int64_t{1000} * 1'000'000;

// Version 1: domain.md's defaults, every type available, USD, effective `now`.
v1::RateCard DefaultRateCard(absl::Time now);

// "H100 80GB" for GPU_TYPE_H100_80GB.
std::string GpuDisplayName(common::v1::GpuType type);

// Checks `next` (the card after an update) against `current`: one entry per
// known GPU type at most, rates in (0, kMaxRateMicros], one currency, and no
// rate more than kMaxRateChangeFactor times above or below its current value
// unless `force`. Rejections are INVALID_ARGUMENT naming the field
// (rate_card.gpu_rates[i].spot_hourly, ...), reason RATE_CHANGE_TOO_LARGE for
// the factor rule.
std::optional<Rejection> ValidateRateCardChange(const v1::RateCard& current,
                                                const v1::RateCard& next,
                                                bool force);

// The entry of `type`, or null.
const v1::GpuRate* FindGpuRate(const v1::RateCard& card,
                               common::v1::GpuType type);

// Per-GPU hourly rate at `pricing` x gpu_count. INVALID_ARGUMENT naming
// `field` when the type is not on the card, or unavailable and
// `require_available`.
Checked<int64_t> PodHourlyRateMicros(const v1::RateCard& card,
                                     common::v1::GpuType type,
                                     common::v1::Pricing pricing,
                                     int32_t gpu_count, std::string_view field,
                                     bool require_available);

}  // namespace trainyard::cost
