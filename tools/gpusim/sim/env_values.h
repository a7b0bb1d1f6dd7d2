// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/env_values.h
// -----------------------------------------------------------------------------
// Typed readers for the text values of env variables, fault settings and
// admin requests. Every error is kInvalidArgument with one field violation
// naming `field` (e.g. "env.TRAINYARD_EPOCHS"), so the API can answer 400
// naming it.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace trainyard::gpusim {

// A decimal integer in [lo, hi].
absl::StatusOr<int64_t> ParseIntValue(std::string_view field,
                                      std::string_view text, int64_t lo,
                                      int64_t hi);

// A finite number in [lo, hi].
absl::StatusOr<double> ParseDoubleValue(std::string_view field,
                                        std::string_view text, double lo,
                                        double hi);

// "true"/"false"/"1"/"0"/"yes"/"no" (ASCII case-insensitive).
absl::StatusOr<bool> ParseBoolValue(std::string_view field,
                                    std::string_view text);

// A non-negative duration: "90s", "5m", "1h30m", or plain seconds ("2.5").
absl::StatusOr<absl::Duration> ParseDurationValue(std::string_view field,
                                                  std::string_view text);

}  // namespace trainyard::gpusim
