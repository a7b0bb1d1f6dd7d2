// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace trainyard::gpusim {
namespace {
const double kLogBase = std::log(1.05);
}  // namespace

int LatencyHistogram::Bucket(absl::Duration d) {
  double us = absl::ToDoubleMicroseconds(d);
  if (us < 1) return 0;
  int b = 1 + static_cast<int>(std::log(us) / kLogBase);
  return std::min(b, kBuckets - 1);
}

void LatencyHistogram::Add(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  ++buckets_[Bucket(d)];
  ++count_;
  max_ = std::max(max_, d);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

LatencyHistogram LatencyHistogram::Since(
    const LatencyHistogram& earlier) const {
  LatencyHistogram out = *this;
  for (int i = 0; i < kBuckets; ++i) out.buckets_[i] -= earlier.buckets_[i];
  out.count_ -= earlier.count_;
  return out;
}

absl::Duration LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return absl::ZeroDuration();
  int64_t rank =
      static_cast<int64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<int64_t>(rank, 1, count_);
  int64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      if (i == 0) return absl::Microseconds(1);
      absl::Duration upper = absl::Microseconds(std::exp(i * kLogBase));
      return std::min(upper, max_);
    }
  }
  return max_;
}

}  // namespace trainyard::gpusim
