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

TEST(NormalizeMaxPointsTest, DefaultsAndCoercions_R_DASH_04) {
  EXPECT_EQ(NormalizeMaxPoints(0), 1000);
  EXPECT_EQ(NormalizeMaxPoints(1), 2);
  EXPECT_EQ(NormalizeMaxPoints(2), 2);
  EXPECT_EQ(NormalizeMaxPoints(777), 777);
  EXPECT_EQ(NormalizeMaxPoints(10000), 10000);
  EXPECT_EQ(NormalizeMaxPoints(10001), 10000);
  EXPECT_EQ(NormalizeMaxPoints(std::numeric_limits<int32_t>::max()), 10000);
}

TEST(ValueLessTest, NaNRanksAboveInfinity) {
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

TEST(BucketLayoutTest, BucketsPartitionTheRangeExactly) {
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

TEST(BucketLayoutTest, WholeInt64RangeDoesNotOverflow) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  BucketLayout layout(0, kMax, 500);
  EXPECT_EQ(layout.First(0), 0);
  EXPECT_EQ(layout.Last(499), kMax);
  EXPECT_EQ(layout.BucketOf(kMax), 499);
  EXPECT_EQ(layout.BucketOf(0), 0);
  EXPECT_EQ(layout.First(1), layout.Last(0) + 1);
}

TEST(DownsampleTest, FewPointsAreReturnedAsTheyAre_R_DASH_04) {
  std::vector<SeriesPoint> points = Points({3, 1, 2, 5});
  DownsampleResult r = Downsample(points, 0, 3, 4);
  EXPECT_FALSE(r.downsampled);
  EXPECT_EQ(r.total_in_range, 4);
  EXPECT_EQ(r.points, points);

  r = Downsample(points, 1, 2, 2);
  EXPECT_FALSE(r.downsampled);
  EXPECT_THAT(r.points, ElementsAre(points[1], points[2]));
}

TEST(DownsampleTest, EachBucketKeepsItsMinimumAndMaximum_R_DASH_04) {
  // 12 points, max 6 -> 3 buckets of 4 steps: [0,3] [4,7] [8,11].
  std::vector<SeriesPoint> points =
      Points({5, 1, 9, 4, /**/ 2, 2, 2, 2, /**/ 7, 8, 100, -3});
  DownsampleResult r = Downsample(points, 0, 11, 6);
  EXPECT_TRUE(r.downsampled);
  EXPECT_EQ(r.total_in_range, 12);
  EXPECT_THAT(r.points,
              ElementsAre(points[1], points[2],  // min 1 @1, max 9 @2
                          points[4],             // all equal: earliest, once
                          points[10], points[11]));  // spike 100, dip -3
}

TEST(DownsampleTest, NaNIsTheMaximumAndNeverHidesTheMinimum) {
  // 2 buckets of 3 steps.
  std::vector<SeriesPoint> points =
      Points({1.0, kNaN, 0.5, /**/ kNaN, kNaN, kNaN, /**/ 4});
  DownsampleResult r = Downsample(points, 0, 5, 4);
  ASSERT_TRUE(r.downsampled);
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_EQ(r.points[0].step, 1);  // NaN: the maximum of bucket 0...
  EXPECT_TRUE(std::isnan(r.points[0].value));
  EXPECT_EQ(r.points[1], points[2]);  // ...and its real minimum is kept.
  EXPECT_EQ(r.points[2].step, 3);     // All-NaN bucket: one point.
  EXPECT_TRUE(std::isnan(r.points[2].value));
}

TEST(DownsampleTest, InfinitiesAreOrdinaryExtremes) {
  std::vector<SeriesPoint> points = Points({1, kInf, -kInf, 2});
  DownsampleResult r = Downsample(points, 0, 3, 2);  // One bucket.
  EXPECT_THAT(r.points, ElementsAre(points[1], points[2]));
}

TEST(DownsampleTest, BucketsSpanTheRequestedRangeNotTheData) {
  // Points only in the first half of [0, 99]: with 2 buckets of 50 steps,
  // they all fall into bucket 0.
  std::vector<SeriesPoint> points = Points({3, 9, 1, 4, 5}, 10);
  DownsampleResult r = Downsample(points, 0, 99, 4);
  EXPECT_TRUE(r.downsampled);
  EXPECT_THAT(r.points, ElementsAre(points[1], points[2]));
}

TEST(DownsampleTest, NeverReturnsMoreThanMaxPointsAndKeepsStepOrder) {
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
