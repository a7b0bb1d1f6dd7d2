// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/latency_histogram.h
// -----------------------------------------------------------------------------
// A histogram of durations with ~5% wide logarithmic buckets (1 us to days),
// for percentiles of delivery and scheduling lag. Thread-compatible: the
// owner locks.
#pragma once

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace trainyard::gpusim {

class LatencyHistogram {
 public:
  // Negative durations count as zero.
  void Add(absl::Duration d);
  void Merge(const LatencyHistogram& other);
  // What was added since `earlier`, a copy of this histogram taken before.
  // Its max() is this histogram's (an upper bound for the interval).
  LatencyHistogram Since(const LatencyHistogram& earlier) const;
  int64_t count() const { return count_; }
  absl::Duration max() const { return max_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1);
  // zero when empty.
  absl::Duration Percentile(double q) const;

 private:
  static constexpr int kBuckets = 560;  // 1.05^560 us ~ 2.4 years
  static int Bucket(absl::Duration d);
  std::array<int64_t, kBuckets> buckets_{};
  int64_t count_ = 0;
  absl::Duration max_ = absl::ZeroDuration();
};

}  // namespace trainyard::gpusim
