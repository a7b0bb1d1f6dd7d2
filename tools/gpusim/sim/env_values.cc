// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/env_values.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {

absl::StatusOr<int64_t> ParseIntValue(std::string_view field,
                                      std::string_view text, int64_t lo,
                                      int64_t hi) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(ToAbsl(text), &value)) {
    return InvalidFieldError(
        field, absl::StrCat("\"", ToAbsl(text), "\" is not an integer"));
  }
  if (value < lo || value > hi) {
    return InvalidFieldError(
        field, absl::StrCat(value, " is outside [", lo, ", ", hi, "]"));
  }
  return value;
}

absl::StatusOr<double> ParseDoubleValue(std::string_view field,
                                        std::string_view text, double lo,
                                        double hi) {
  double value = 0;
  if (!absl::SimpleAtod(ToAbsl(text), &value) || !std::isfinite(value)) {
    return InvalidFieldError(
        field, absl::StrCat("\"", ToAbsl(text), "\" is not a number"));
  }
  if (value < lo || value > hi) {
    return InvalidFieldError(
        field, absl::StrCat(value, " is outside [", lo, ", ", hi, "]"));
  }
  return value;
}

absl::StatusOr<bool> ParseBoolValue(std::string_view field,
                                    std::string_view text) {
  std::string lower = absl::AsciiStrToLower(ToAbsl(text));
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return InvalidFieldError(
      field, absl::StrCat("\"", ToAbsl(text), "\" is not true or false"));
}

absl::StatusOr<absl::Duration> ParseDurationValue(std::string_view field,
                                                  std::string_view text) {
  double seconds = 0;
  absl::Duration d;
  if (absl::SimpleAtod(ToAbsl(text), &seconds) && std::isfinite(seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(ToAbsl(text), &d) ||
             d == absl::InfiniteDuration()) {
    return InvalidFieldError(
        field, absl::StrCat("\"", ToAbsl(text),
                            "\" is not a duration (90s, 5m, 1h30m)"));
  }
  if (d < absl::ZeroDuration()) {
    return InvalidFieldError(field, "must not be negative");
  }
  return d;
}

}  // namespace trainyard::gpusim
