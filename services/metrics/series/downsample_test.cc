// Tests of the pure downsampler (R-DASH-04).

#include "services/metrics/series/downsample.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

using ::testing::ElementsAre;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<SeriesPoint> Points(const std::vector<double>& values,
                                int64_t first_step = 0) {
  std::vector<SeriesPoint> points;
  for (size_t i = 0; i < values.size(); ++i) {
    points.push_back({first_step + static_cast<int64_t>(i), values[i], 1});
  }
  return points;
}

TEST(NormalizeMaxPointsTest, R_DASH_04_DefaultsAndCoercions) {
  EXPECT_EQ(NormalizeMaxPoints(0), 1000);
  EXPECT_EQ(NormalizeMaxPoints(1), 2);
  EXPECT_EQ(NormalizeMaxPoints(2), 2);
  EXPECT_EQ(NormalizeMaxPoints(777), 777);
  EXPECT_EQ(NormalizeMaxPoints(10000), 10000);
  EXPECT_EQ(NormalizeMaxPoints(10001), 10000);
  EXPECT_EQ(NormalizeMaxPoints(std::numeric_limits<int32_t>::max()), 10000);
}

TEST(ValueLessTest, R_DASH_04_NaNRanksAboveInfinity) {
  std::vector<double> ordered = {-kInf, -1.0, 0.0, 1.0, kInf, kNaN};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      EXPECT_EQ(ValueLess(ordered[i], ordered[j]), i < j) << i << " " << j;
    }
  }
  EXPECT_FALSE(ValueLess(-0.0, 0.0));
  EXPECT_FALSE(ValueLess(0.0, -0.0));
  EXPECT_FALSE(ValueLess(-kNaN, kNaN));
}

TEST(BucketLayoutTest, R_DASH_04_BucketsPartitionTheRangeExactly) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    int64_t start = static_cast<int64_t>(rng() % 1000);
    int64_t end = start + static_cast<int64_t>(rng() % 5000);
    int64_t n = 1 + static_cast<int64_t>(rng() % 600);
    BucketLayout layout(start, end, n);
    ASSERT_EQ(layout.First(0), start);
    ASSERT_EQ(layout.Last(n - 1), end);
    for (int64_t i = 0; i + 1 < n; ++i) {
      ASSERT_EQ(layout.First(i + 1), layout.Last(i) + 1);
    }
    for (int k = 0; k < 20; ++k) {
      int64_t step = start + static_cast<int64_t>(rng() % (end - start + 1));
      int64_t b = layout.BucketOf(step);
      ASSERT_GE(step, layout.First(b));
      ASSERT_LE(step, layout.Last(b));
    }
  }
}

TEST(BucketLayoutTest, R_DASH_04_WholeInt64RangeDoesNotOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  BucketLayout layout(0, kMax, 500);
  EXPECT_EQ(layout.First(0), 0);
  EXPECT_EQ(layout.Last(499), kMax);
  EXPECT_EQ(layout.BucketOf(kMax), 499);
  EXPECT_EQ(layout.BucketOf(0), 0);
  EXPECT_EQ(layout.First(1), layout.Last(0) + 1);
}

TEST(DownsampleTest, R_DASH_04_FewPointsAreReturnedAsTheyAre) {
  std::vector<SeriesPoint> points = Points({3, 1, 2, 5});
  DownsampleResult r = Downsample(points, 0, 3, 4);
  EXPECT_FALSE(r.downsampled);
  EXPECT_EQ(r.total_in_range, 4);
  EXPECT_EQ(r.points, points);

  r = Downsample(points, 1, 2, 2);
  EXPECT_FALSE(r.downsampled);
  EXPECT_THAT(r.points, ElementsAre(points[1], points[2]));
}

TEST(DownsampleTest, R_DASH_04_EachBucketKeepsItsMinimumAndMaximum) {
  // 12 points, max 8 -> the two end points and 3 buckets of 4 steps:
  // [0,3] [4,7] [8,11].
  std::vector<SeriesPoint> points =
      Points({5, 1, 9, 4, /**/ 2, 2, 2, 2, /**/ 7, 8, 100, -3});
  DownsampleResult r = Downsample(points, 0, 11, 8);
  EXPECT_TRUE(r.downsampled);
  EXPECT_EQ(r.total_in_range, 12);
  EXPECT_THAT(r.points,
              ElementsAre(points[0],             // first
                          points[1], points[2],  // min 1 @1, max 9 @2
                          points[4],             // all equal: earliest, once
                          points[10], points[11]));  // spike 100, dip -3 (last)
}

TEST(DownsampleTest, R_DASH_04_FirstAndLastPointOfTheRangeAreAlwaysShown) {
  // A noisy curve: the last step is rarely its bucket's extreme.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> noise(0, 1);
  std::vector<SeriesPoint> points;
  for (int64_t s = 1; s <= 10000; ++s) points.push_back({s, noise(rng), 1});
  points.back().value = 0.5;
  for (int32_t max_points : {2, 3, 10, 200, 1000}) {
    DownsampleResult r = Downsample(points, 1, 10000, max_points);
    ASSERT_TRUE(r.downsampled);
    EXPECT_LE(static_cast<int32_t>(r.points.size()), max_points);
    EXPECT_EQ(r.points.front(), points.front()) << max_points;
    EXPECT_EQ(r.points.back(), points.back()) << max_points;
  }
  // A step range: its own first and last points.
  DownsampleResult range = Downsample(points, 2000, 2999, 100);
  EXPECT_EQ(range.points.front().step, 2000);
  EXPECT_EQ(range.points.back().step, 2999);
  EXPECT_LE(range.points.size(), 100u);
  // 2 and 3 points: the two ends only.
  EXPECT_THAT(Downsample(points, 1, 10000, 3).points,
              ElementsAre(points.front(), points.back()));
}

TEST(DownsampleTest, R_DASH_04_NaNIsTheMaximumAndNeverHidesTheMinimum) {
  // The end points and 3 buckets of 3 steps.
  std::vector<SeriesPoint> points =
      Points({1.0, kNaN, 0.5, /**/ kNaN, kNaN, kNaN, /**/ 4, 3, 5});
  DownsampleResult r = Downsample(points, 0, 8, 8);
  ASSERT_TRUE(r.downsampled);
  ASSERT_EQ(r.points.size(), 6u);
  EXPECT_EQ(r.points[0], points[0]);  // First.
  EXPECT_EQ(r.points[1].step, 1);     // NaN: the maximum of bucket 0...
  EXPECT_TRUE(std::isnan(r.points[1].value));
  EXPECT_EQ(r.points[2], points[2]);  // ...and its real minimum is kept.
  EXPECT_EQ(r.points[3].step, 3);     // All-NaN bucket: one point.
  EXPECT_TRUE(std::isnan(r.points[3].value));
  EXPECT_EQ(r.points[4], points[7]);  // Minimum of bucket 2...
  EXPECT_EQ(r.points[5], points[8]);  // ...its maximum, also the last.
}

TEST(DownsampleTest, R_DASH_04_InfinitiesAreOrdinaryExtremes) {
  std::vector<SeriesPoint> points = Points({1, kInf, -kInf, 2, 3});
  DownsampleResult r = Downsample(points, 0, 4, 4);  // One bucket.
  EXPECT_THAT(r.points,
              ElementsAre(points[0], points[1], points[2], points[4]));
}

TEST(DownsampleTest, R_DASH_04_BucketsSpanTheRequestedRangeNotTheData) {
  // Points only in the first half of [0, 99]: with 2 buckets of 50 steps,
  // they all fall into bucket 0 (over the data, [10, 16], step 15 would be
  // bucket 1's maximum).
  std::vector<SeriesPoint> points = Points({3, 9, 1, 4, 5, 6, 2}, 10);
  DownsampleResult r = Downsample(points, 0, 99, 6);
  EXPECT_TRUE(r.downsampled);
  EXPECT_THAT(r.points,
              ElementsAre(points[0], points[1], points[2], points[6]));
}

TEST(DownsampleTest, R_DASH_04_NeverReturnsMoreThanMaxPointsAndKeepsStepOrder) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::vector<SeriesPoint> points;
  int64_t step = 0;
  for (int i = 0; i < 5000; ++i) {
    step += 1 + static_cast<int64_t>(rng() % 3);
    points.push_back({step, noise(rng), 1});
  }
  for (int32_t max_points : {2, 3, 5, 10, 99, 1000, 4999, 5000}) {
    DownsampleResult r = Downsample(points, 0, step, max_points);
    EXPECT_LE(static_cast<int32_t>(r.points.size()), max_points);
    EXPECT_EQ(r.total_in_range, 5000);
    for (size_t i = 1; i < r.points.size(); ++i) {
      ASSERT_LT(r.points[i - 1].step, r.points[i].step);
    }
  }
}

}  // namespace
}  // namespace trainyard::metrics
