// Copyright 2026 Trainyard authors.
//
// The one way our code reads time. Nothing outside RealClock calls absl::Now()
// or std::chrono::*::now(); everything else takes a `const Clock&`.
//
// The suite-wide time scale (domain.md): every process of a suite started with
// the same --time_origin and --time_scale computes
//     now = origin + (wall_now - origin) * scale
// so an eight-hour job plays in minutes and every timestamp, duration and cost
// agrees across jobs, scheduler, metrics, cost and gpusim.
#pragma once

#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace trainyard {

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// Wall-clock time.
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
};

// Scaled time as described above. `base` must outlive the ScaledClock.
// REQUIRES: scale > 0.
class ScaledClock final : public Clock {
 public:
  ScaledClock(const Clock& base, absl::Time origin, double scale);
  absl::Time Now() const override;

  double scale() const { return scale_; }
  // How long `d` of scaled time lasts on the wall clock.
  absl::Duration ToWall(absl::Duration d) const { return d / scale_; }

 private:
  const Clock& base_;
  const absl::Time origin_;
  const double scale_;
};

// A clock that moves only when told to. For tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1764385200));
  absl::Time Now() const override;
  void Set(absl::Time t);
  void Advance(absl::Duration d);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// Parses --time_origin: RFC 3339 ("2026-11-29T03:00:00Z") or unix seconds.
absl::StatusOr<absl::Time> ParseTimeOrigin(std::string_view text);

}  // namespace trainyard
