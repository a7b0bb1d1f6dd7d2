// Copyright 2026 Trainyard authors.
#include "common/time/clock.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings/absl_view.h"

namespace trainyard {

absl::Time RealClock::Now() const { return absl::Now(); }

ScaledClock::ScaledClock(const Clock& base, absl::Time origin, double scale)
    : base_(base), origin_(origin), scale_(scale) {}

absl::Time ScaledClock::Now() const {
  return origin_ + (base_.Now() - origin_) * scale_;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

absl::StatusOr<absl::Time> ParseTimeOrigin(std::string_view text) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(ToAbsl(text), &seconds))
    return absl::FromUnixSeconds(seconds);
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, ToAbsl(text), &t, &err)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", ToAbsl(text),
                   "\" is neither RFC 3339 (2026-11-29T03:00:00Z) nor unix "
                   "seconds"));
}

}  // namespace trainyard
