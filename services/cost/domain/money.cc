// Copyright 2026 Trainyard authors.
#include "services/cost/domain/money.h"

#include "absl/strings/str_format.h"

namespace trainyard::cost {

int64_t DivideRoundHalfUp(__int128 numerator, __int128 denominator) {
  return static_cast<int64_t>((numerator * 2 + denominator) /
                              (denominator * 2));
}

int64_t BilledMs(absl::Duration d) { return absl::ToInt64Milliseconds(d); }

int64_t ComputeAmountMicros(int64_t rate_micros_per_hour, int64_t duration_ms) {
  return DivideRoundHalfUp(
      static_cast<__int128>(rate_micros_per_hour) * duration_ms, kMsPerHour);
}

int64_t StorageAmountMicros(int64_t rate_micros_per_gb_month, int64_t bytes,
                            int64_t duration_ms) {
  return DivideRoundHalfUp(
      static_cast<__int128>(rate_micros_per_gb_month) * bytes * duration_ms,
      static_cast<__int128>(kBytesPerGb) * kMsPerStorageMonth);
}

std::string FormatUsd(int64_t micros) {
  const bool negative = micros < 0;
  const int64_t cents = DivideRoundHalfUp(
      negative ? -static_cast<__int128>(micros) : micros, 10'000);
  return absl::StrFormat("%s$%d.%02d", negative ? "-" : "", cents / 100,
                         cents % 100);
}

}  // namespace trainyard::cost
