// Copyright 2026 Trainyard authors.
#include "tools/gpusim/delivery/backoff.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {

bool IsRetryableStatus(int status) {
  return status == 408 || status == 425 || status == 429 ||
         (status >= 500 && status <= 599);
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) {
  int64_t seconds = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ToAbsl(value)), &seconds) ||
      seconds < 0) {
    return std::nullopt;
  }
  return absl::Seconds(seconds);
}

absl::Duration RetryDelay(const BackoffPolicy& policy, int failures,
                          std::optional<absl::Duration> retry_after,
                          std::mt19937_64& rng) {
  double factor = std::pow(policy.multiplier, std::max(0, failures - 1));
  absl::Duration d =
      std::min(policy.max, policy.initial * std::min(factor, 1e9));
  double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  absl::Duration delay = d * jitter;
  if (retry_after && *retry_after > delay) delay = *retry_after;
  return delay;
}

}  // namespace trainyard::gpusim
