// Copyright 2026 Trainyard authors.
//
// R-DASH-05: previous value, percent change and trend of a metric.
#include "services/metrics/domain/trend.h"

#include <cmath>

#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::metrics {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

common::v1::MetricValue First(double value) {
  return NextMetricValue(nullptr, value, 1, kT0, Better::kLower, 1.0);
}

common::v1::Trend TrendOf(double before, double after, Better better,
                          double unchanged_percent = 1.0) {
  common::v1::MetricValue prev = First(before);
  return NextMetricValue(&prev, after, 2, kT0, better, unchanged_percent)
      .trend();
}

TEST(Trend, R_DASH_05_FirstReportHasNoPreviousValueNorTrend) {
  common::v1::MetricValue v = NextMetricValue(
      nullptr, 0.8, 7, kT0 + absl::Seconds(3), Better::kLower, 1.0);
  EXPECT_DOUBLE_EQ(v.value(), 0.8);
  EXPECT_EQ(v.step(), 7);
  EXPECT_EQ(FromProto(v.time()), kT0 + absl::Seconds(3));
  EXPECT_FALSE(v.has_previous_value());
  EXPECT_FALSE(v.has_percent_change());
  EXPECT_EQ(v.trend(), common::v1::TREND_UNSPECIFIED);
}

TEST(Trend, R_DASH_05_PercentChangeAgainstThePreviousValue) {
  common::v1::MetricValue prev = First(0.389);
  common::v1::MetricValue v =
      NextMetricValue(&prev, 0.342, 2, kT0, Better::kLower, 1.0);
  EXPECT_DOUBLE_EQ(v.previous_value(), 0.389);
  EXPECT_NEAR(v.percent_change(), -12.082, 0.001);
  // Relative to |before|: a negative metric that grows is a positive change.
  prev = First(-2);
  EXPECT_DOUBLE_EQ(
      NextMetricValue(&prev, -1, 2, kT0, Better::kHigher, 1.0).percent_change(),
      50);
}

TEST(Trend, R_DASH_05_DirectionDecidesImprovingOrWorsening) {
  EXPECT_EQ(TrendOf(1.0, 0.9, Better::kLower), common::v1::TREND_IMPROVING);
  EXPECT_EQ(TrendOf(1.0, 1.1, Better::kLower), common::v1::TREND_WORSENING);
  EXPECT_EQ(TrendOf(0.8, 0.9, Better::kHigher), common::v1::TREND_IMPROVING);
  EXPECT_EQ(TrendOf(0.9, 0.8, Better::kHigher), common::v1::TREND_WORSENING);
  // Learning rate: a change, but no better direction.
  EXPECT_EQ(TrendOf(1e-4, 2e-4, Better::kNeither),
            common::v1::TREND_UNSPECIFIED);
}

TEST(Trend, R_DASH_05_UnchangedBelowTheConfiguredPercent) {
  EXPECT_EQ(TrendOf(100, 100.99, Better::kLower), common::v1::TREND_UNCHANGED);
  EXPECT_EQ(TrendOf(100, 101, Better::kLower), common::v1::TREND_WORSENING);
  EXPECT_EQ(TrendOf(100, 104, Better::kLower, /*unchanged_percent=*/5),
            common::v1::TREND_UNCHANGED);
  EXPECT_EQ(TrendOf(100, 100, Better::kHigher), common::v1::TREND_UNCHANGED);
}

TEST(Trend, R_DASH_05_NonFiniteValues) {
  // A loss that stops being a number is worse, with no percent.
  common::v1::MetricValue prev = First(0.3);
  common::v1::MetricValue v =
      NextMetricValue(&prev, NAN, 2, kT0, Better::kLower, 1.0);
  EXPECT_TRUE(std::isnan(v.value()));
  EXPECT_FALSE(v.has_percent_change());
  EXPECT_EQ(v.trend(), common::v1::TREND_WORSENING);
  EXPECT_EQ(TrendOf(0.3, INFINITY, Better::kNeither),
            common::v1::TREND_UNSPECIFIED);
  // After a NaN, or from 0, there is no percent to compare.
  prev = First(NAN);
  v = NextMetricValue(&prev, 0.3, 2, kT0, Better::kLower, 1.0);
  EXPECT_FALSE(v.has_percent_change());
  EXPECT_EQ(v.trend(), common::v1::TREND_UNSPECIFIED);
  EXPECT_EQ(TrendOf(0, 0.5, Better::kLower), common::v1::TREND_UNSPECIFIED);
}

}  // namespace
}  // namespace trainyard::metrics
