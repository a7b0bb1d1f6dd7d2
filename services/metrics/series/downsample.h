// -----------------------------------------------------------------------------
// File: services/metrics/series/downsample.h
// -----------------------------------------------------------------------------
//
// Downsampling of a metric series to at most N points keeping every bucket's
// minimum and maximum (R-DASH-04). Pure functions on plain values: no RocksDB,
// no protobuf. SeriesStore answers from chunk summaries and must produce
// exactly what Downsample() produces from the raw points, so Downsample() is
// also the brute-force reference of the store's tests.
//
// The rules (also documented on trainyard.common.v1.CurveSeries):
//   * When the step range [start, end] holds at most max_points points, they
//     are returned as they are (not downsampled).
//   * Otherwise the answer is the first and the last point of the range
//     (the latest value is what a person reads first) plus the extremes of
//     (max_points - 2) / 2 buckets of equal width that [start, end] is cut
//     into (bucket i holds steps s with floor((s - start) * n /
//     (end - start + 1)) == i): each non-empty bucket contributes its minimum
//     point and its maximum point, in step order, or one point when they are
//     the same point. A point is given once even when it is both an end point
//     and an extreme. So max_points 2 or 3 give the two end points only.
//   * Extremes use a total order on values: -Inf < finite values < +Inf < NaN
//     (all NaNs are equal; -0.0 == +0.0). So a bucket that holds a NaN shows
//     it as its maximum (a diverged run stays visible), its minimum is the
//     smallest real value, and an all-NaN bucket contributes one NaN point.
//   * Ties go to the earliest step, so the choice is deterministic.
//
// Thread-safe: everything here is a pure function or a value type.

#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace trainyard::metrics {

// Per-series cap on returned points (GetLossCurveRequest.max_points).
inline constexpr int32_t kDefaultMaxPoints = 1000;
inline constexpr int32_t kMaxMaxPoints = 10000;
inline constexpr int32_t kMinMaxPoints = 2;

// 0 -> kDefaultMaxPoints; above kMaxMaxPoints -> kMaxMaxPoints; 1 ->
// kMinMaxPoints. REQUIRES: requested >= 0 (negative is a caller's
// INVALID_ARGUMENT).
int32_t NormalizeMaxPoints(int32_t requested);

// One point of a series: the step, the value as reported (NaN and +/-Inf
// included) and the attempt that reported it.
struct SeriesPoint {
  int64_t step = 0;
  double value = 0;
  int32_t attempt = 0;

  // Bitwise on the value: NaN equals a NaN with the same bits, -0.0 != 0.0.
  // This is "the same point was stored", which is what replays and tests need.
  friend bool operator==(const SeriesPoint& a, const SeriesPoint& b) {
    return a.step == b.step && a.attempt == b.attempt &&
           std::bit_cast<uint64_t>(a.value) == std::bit_cast<uint64_t>(b.value);
  }
};

// The value order of extremes: -Inf < finite < +Inf < NaN; NaNs are equal.
inline bool ValueLess(double a, double b) {
  if (a != a) return false;  // a is NaN.
  if (b != b) return true;   // b is NaN, a is not.
  return a < b;
}

// True when `candidate` should replace `current` as a minimum (maximum):
// a smaller (larger) value, or an equal one at an earlier step.
inline bool BetterMin(const SeriesPoint& candidate,
                      const SeriesPoint& current) {
  if (ValueLess(candidate.value, current.value)) return true;
  if (ValueLess(current.value, candidate.value)) return false;
  return candidate.step < current.step;
}
inline bool BetterMax(const SeriesPoint& candidate,
                      const SeriesPoint& current) {
  if (ValueLess(current.value, candidate.value)) return true;
  if (ValueLess(candidate.value, current.value)) return false;
  return candidate.step < current.step;
}

// Count, minimum and maximum of a set of points (a bucket, a chunk, a group of
// chunks). min/max are meaningful only when count > 0.
struct Extremes {
  int64_t count = 0;
  SeriesPoint min;
  SeriesPoint max;

  // Adds one point. The min/max rules above, ties to the earlier step.
  void Add(const SeriesPoint& point) {
    if (count == 0) {
      min = max = point;
    } else {
      if (BetterMin(point, min)) min = point;
      if (BetterMax(point, max)) max = point;
    }
    ++count;
  }
  // Adds every point of `other` (as if each had been Add()ed).
  void Merge(const Extremes& other) {
    if (other.count == 0) return;
    if (count == 0) {
      *this = other;
      return;
    }
    if (BetterMin(other.min, min)) min = other.min;
    if (BetterMax(other.max, max)) max = other.max;
    count += other.count;
  }

  friend bool operator==(const Extremes& a, const Extremes& b) {
    return a.count == b.count &&
           (a.count == 0 || (a.min == b.min && a.max == b.max));
  }
};

// The number of buckets of a downsampled answer of at most `max_points`
// points: (max_points - 2) / 2, leaving room for the two end points.
// REQUIRES: max_points >= 2.
int64_t DownsampleBuckets(int32_t max_points);

// Appends `point` unless `*out` already ends at or after its step: the points
// of a downsampled answer are appended in step order, and an end point that
// is also a bucket's extreme is given once.
void AppendPoint(const SeriesPoint& point, std::vector<SeriesPoint>* out);

// Appends (AppendPoint) the points a bucket with extremes `e` contributes:
// nothing when empty, one point when min and max are the same point, else
// both in step order.
void AppendBucketPoints(const Extremes& e, std::vector<SeriesPoint>* out);

// The equal-width buckets of the inclusive step range [start, end]. Exact
// integer arithmetic (128-bit), for any int64 range.
class BucketLayout {
 public:
  // REQUIRES: start <= end, buckets >= 1.
  BucketLayout(int64_t start, int64_t end, int64_t buckets);

  int64_t buckets() const { return buckets_; }
  // The bucket of `step`. REQUIRES: start <= step <= end.
  int64_t BucketOf(int64_t step) const;
  // First and last step of bucket i (inclusive). A bucket is empty (first >
  // last) only when there are more buckets than steps.
  int64_t First(int64_t i) const;
  int64_t Last(int64_t i) const;

 private:
  __int128 Boundary(int64_t i) const;  // start + ceil(i * length / buckets)

  int64_t start_;
  int64_t end_;
  __int128 length_;  // end - start + 1
  int64_t buckets_;
};

struct DownsampleResult {
  // In step order.
  std::vector<SeriesPoint> points;
  // Points of the input within [start, end].
  int64_t total_in_range = 0;
  // True when `points` was downsampled (total_in_range > max_points).
  bool downsampled = false;
};

// The brute-force downsampler: the points of `points` within [start, end],
// or, when there are more than `max_points` of them, the first and last of
// them with the extremes of DownsampleBuckets(max_points) equal-width buckets
// (rules at the top of this file).
// REQUIRES: `points` sorted by strictly increasing step; start <= end;
// max_points >= 2.
DownsampleResult Downsample(absl::Span<const SeriesPoint> points, int64_t start,
                            int64_t end, int32_t max_points);

}  // namespace trainyard::metrics
