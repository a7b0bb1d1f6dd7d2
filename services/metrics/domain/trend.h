// Copyright 2026 Trainyard authors.
//
// R-DASH-05: a metric's latest value with its previous value, percent change
// and trend (domain.md: "unchanged" under 1% by default; lower is better for
// losses and perplexity, higher for GPU utilization, tokens/s and steps/hour;
// learning rate and gradient norm have no better direction).
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::metrics {

enum class Better { kLower, kHigher, kNeither };

// The MetricValue after `value` is reported, given the one before (`prev`,
// unset when never reported). NaN/Inf values are kept as reported, with no
// percent change and trend WORSENING for a direction-ful metric.
common::v1::MetricValue NextMetricValue(const common::v1::MetricValue* prev,
                                        double value, int64_t step,
                                        absl::Time time, Better better,
                                        double unchanged_percent);

}  // namespace trainyard::metrics
