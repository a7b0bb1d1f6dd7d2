// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/delivery/backoff.h
// -----------------------------------------------------------------------------
// When a webhook sender tries again (shared/docs/webhooks.md): 429, 5xx, 408
// and connection errors are retried with exponential backoff and jitter,
// never sooner than the receiver's Retry-After; every other answer is final
// (in particular 400, 401, 413 and 415). Delays are in the suite's
// (simulated) time, like everything a pod does.
#pragma once

#include <optional>
#include <random>
#include <string_view>

#include "absl/time/time.h"

namespace trainyard::gpusim {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(1);
  double multiplier = 2;
  absl::Duration max = absl::Minutes(5);
  // A delivery still failing this long after its first attempt is dropped.
  absl::Duration give_up_after = absl::Hours(24);
};

// True for answers worth another attempt: 408, 425, 429 and 5xx.
bool IsRetryableStatus(int status);

// Seconds of a Retry-After header ("5"); nullopt when absent or not a
// number of seconds (HTTP dates are ignored).
std::optional<absl::Duration> ParseRetryAfter(std::string_view value);

// The wait before retry number `failures` (1 after the first failure):
// d = min(max, initial * multiplier^(failures-1)), then "equal jitter" in
// [d/2, d], then at least `retry_after`.
absl::Duration RetryDelay(const BackoffPolicy& policy, int failures,
                          std::optional<absl::Duration> retry_after,
                          std::mt19937_64& rng);

}  // namespace trainyard::gpusim
