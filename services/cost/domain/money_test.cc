// Copyright 2026 Trainyard authors.
#include "services/cost/domain/money.h"

#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

TEST(Money, R_X_04_RoundsHalfUpOnTheWholeDuration) {
  // $2.49/h for one second = 691.666... micros -> 692.
  EXPECT_EQ(ComputeAmountMicros(2'490'000, 1000), 692);
  // 1.5 micros rounds up to 2; 1.4999 down to 1.
  EXPECT_EQ(ComputeAmountMicros(5'400, 1000), 2);  // 1.5
  EXPECT_EQ(ComputeAmountMicros(5'399, 1000), 1);  // 1.49972
  // One hour is the rate exactly.
  EXPECT_EQ(ComputeAmountMicros(3'990'000, kMsPerHour), 3'990'000);
  EXPECT_EQ(ComputeAmountMicros(3'990'000, 0), 0);
}

TEST(Money, R_X_04_MillionOneSecondEntriesSumExactly) {
  // Each entry is priced on its own duration; the total of a million entries
  // is exactly a million times one entry (no drift, no float).
  const int64_t rate = 2'490'000;
  int64_t total = 0;
  for (int i = 0; i < 1'000'000; ++i) total += ComputeAmountMicros(rate, 1000);
  EXPECT_EQ(total, int64_t{692} * 1'000'000);
  // And an entry of the whole span is round(rate x 1e6 s / 3600 s).
  EXPECT_EQ(ComputeAmountMicros(rate, int64_t{1'000'000} * 1000),
            691'666'667);  // $691.666...67
}

TEST(Money, R_PAUSE_03_StorageByGbMonth) {
  // 100 GB for a 30-day month at $0.20/GB-month = $20.
  EXPECT_EQ(StorageAmountMicros(200'000, 100 * kBytesPerGb, kMsPerStorageMonth),
            20'000'000);
  // 160 MB for one hour: 0.16 GB x 1/720 month x 0.2 = 44.44.. micros -> 44.
  EXPECT_EQ(StorageAmountMicros(200'000, 160'000'000, kMsPerHour), 44);
}

TEST(Money, FormatsDollarsWithCents) {
  EXPECT_EQ(FormatUsd(54'100'000), "$54.10");
  EXPECT_EQ(FormatUsd(5'000), "$0.01");  // half a cent rounds up
  EXPECT_EQ(FormatUsd(4'999), "$0.00");
  EXPECT_EQ(FormatUsd(-1'000'000), "-$1.00");
}

}  // namespace
}  // namespace trainyard::cost
