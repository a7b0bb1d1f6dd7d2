// Copyright 2026 Trainyard authors.
#include "tools/gpusim/delivery/backoff.h"

#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

TEST(BackoffTest, WhatIsRetried) {
  for (int status : {408, 425, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(IsRetryableStatus(status)) << status;
  }
  for (int status : {200, 204, 301, 400, 401, 403, 404, 409, 413, 415, 422}) {
    EXPECT_FALSE(IsRetryableStatus(status)) << status;
  }
}

TEST(BackoffTest, RetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfter("5"), absl::Seconds(5));
  EXPECT_EQ(ParseRetryAfter(" 0 "), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Fri, 31 Dec 1999 23:59:59 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
}

TEST(BackoffTest, ExponentialWithEqualJitterCappedAndFloored) {
  BackoffPolicy policy{
      .initial = absl::Seconds(1), .multiplier = 2, .max = absl::Seconds(60)};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    for (int failures = 1; failures <= 12; ++failures) {
      absl::Duration d =
          absl::Seconds(std::min(60.0, std::pow(2, failures - 1)));
      absl::Duration delay = RetryDelay(policy, failures, std::nullopt, rng);
      ASSERT_GE(delay, d / 2);
      ASSERT_LE(delay, d);
    }
  }
  EXPECT_EQ(RetryDelay(policy, 1, absl::Seconds(30), rng), absl::Seconds(30));
  EXPECT_LE(RetryDelay(policy, 1, absl::ZeroDuration(), rng), absl::Seconds(1));
  EXPECT_LE(RetryDelay(policy, 1000, std::nullopt, rng), absl::Seconds(60));
}

}  // namespace
}  // namespace trainyard::gpusim
