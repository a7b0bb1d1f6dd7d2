// Copyright 2026 Trainyard authors.
//
// Money arithmetic of the ledger (orchestration.md "Time and money"): integer
// micro-dollars, per-millisecond durations, one rounding rule. An amount is
// round-half-up(rate x duration / unit), computed on an entry's whole
// duration, so a total is the exact sum of its entries. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace trainyard::cost {

inline constexpr int64_t kMicrosPerDollar = 1'000'000;
inline constexpr int64_t kMsPerHour = 3'600'000;
// A storage month is 30 days; a GB is 10^9 bytes (as the provider bills).
inline constexpr int64_t kMsPerStorageMonth = int64_t{30} * 24 * kMsPerHour;
inline constexpr int64_t kBytesPerGb = 1'000'000'000;

// round-half-up(numerator / denominator) for numerator >= 0, denominator > 0.
int64_t DivideRoundHalfUp(__int128 numerator, __int128 denominator);

// A duration in whole milliseconds, truncated (billing never rounds time up).
int64_t BilledMs(absl::Duration d);

// GPU time: round-half-up(rate_micros_per_hour x duration_ms / 3,600,000).
// REQUIRES: both >= 0.
int64_t ComputeAmountMicros(int64_t rate_micros_per_hour, int64_t duration_ms);

// Paused storage: round-half-up(rate_micros_per_gb_month x bytes x
// duration_ms / (10^9 x 30 days in ms)). REQUIRES: all >= 0.
int64_t StorageAmountMicros(int64_t rate_micros_per_gb_month, int64_t bytes,
                            int64_t duration_ms);

// "$54.10": dollars with two decimals, cents rounded half up ("-$1.00" for
// credits).
std::string FormatUsd(int64_t micros);

}  // namespace trainyard::cost
