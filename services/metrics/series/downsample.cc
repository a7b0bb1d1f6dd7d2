#include "services/metrics/series/downsample.h"

#include <algorithm>

namespace trainyard::metrics {

int32_t NormalizeMaxPoints(int32_t requested) {
  if (requested == 0) return kDefaultMaxPoints;
  return std::clamp(requested, kMinMaxPoints, kMaxMaxPoints);
}

int64_t DownsampleBuckets(int32_t max_points) { return (max_points - 2) / 2; }

void AppendPoint(const SeriesPoint& point, std::vector<SeriesPoint>* out) {
  if (out->empty() || out->back().step < point.step) out->push_back(point);
}

void AppendBucketPoints(const Extremes& e, std::vector<SeriesPoint>* out) {
  if (e.count == 0) return;
  if (e.min.step <= e.max.step) {
    AppendPoint(e.min, out);
    AppendPoint(e.max, out);
  } else {
    AppendPoint(e.max, out);
    AppendPoint(e.min, out);
  }
}

BucketLayout::BucketLayout(int64_t start, int64_t end, int64_t buckets)
    : start_(start),
      end_(end),
      length_(static_cast<__int128>(end) - start + 1),
      buckets_(buckets) {}

int64_t BucketLayout::BucketOf(int64_t step) const {
  __int128 offset = static_cast<__int128>(step) - start_;
  return static_cast<int64_t>(offset * buckets_ / length_);
}

__int128 BucketLayout::Boundary(int64_t i) const {
  __int128 numerator = static_cast<__int128>(i) * length_;
  __int128 ceil = (numerator + buckets_ - 1) / buckets_;
  return start_ + ceil;
}

int64_t BucketLayout::First(int64_t i) const {
  return static_cast<int64_t>(Boundary(i));
}

int64_t BucketLayout::Last(int64_t i) const {
  if (i + 1 >= buckets_) return end_;
  return static_cast<int64_t>(Boundary(i + 1) - 1);
}

DownsampleResult Downsample(absl::Span<const SeriesPoint> points, int64_t start,
                            int64_t end, int32_t max_points) {
  auto by_step = [](const SeriesPoint& p, int64_t step) {
    return p.step < step;
  };
  auto first = std::lower_bound(points.begin(), points.end(), start, by_step);
  auto last = first;
  while (last != points.end() && last->step <= end) ++last;

  DownsampleResult result;
  result.total_in_range = last - first;
  if (result.total_in_range <= max_points) {
    result.points.assign(first, last);
    return result;
  }
  result.downsampled = true;
  result.points.push_back(*first);
  if (const int64_t n = DownsampleBuckets(max_points); n > 0) {
    BucketLayout layout(start, end, n);
    std::vector<Extremes> buckets(layout.buckets());
    for (auto it = first; it != last; ++it) {
      buckets[layout.BucketOf(it->step)].Add(*it);
    }
    for (const Extremes& bucket : buckets) {
      AppendBucketPoints(bucket, &result.points);
    }
  }
  AppendPoint(*(last - 1), &result.points);
  return result;
}

}  // namespace trainyard::metrics
