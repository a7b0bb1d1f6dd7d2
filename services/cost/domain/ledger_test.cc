// Copyright 2026 Trainyard authors.
#include "services/cost/domain/ledger.h"

#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

v1::Meter ComputeMeter(absl::Duration length) {
  v1::Meter m;
  m.set_meter_id("j1.m1");
  m.set_job_id("j1");
  m.set_attempt(1);
  m.set_phase(common::v1::COST_PHASE_ACTIVE_COMPUTE);
  m.set_gpu_type(common::v1::GPU_TYPE_H100_80GB);
  m.set_gpu_count(2);
  m.set_pricing(common::v1::PRICING_SPOT);
  m.mutable_hourly_rate()->set_currency_code("USD");
  m.mutable_hourly_rate()->set_micros(4'980'000);
  *m.mutable_start_time() = ToProto(kT0);
  *m.mutable_end_time() = ToProto(kT0 + length);
  m.set_state(v1::METER_STATE_CLOSED);
  return m;
}

TEST(Ledger, R_X_04_ClosedComputeMeterIsOneEntry) {
  std::vector<v1::LedgerEntry> e =
      ClosedEntries(ComputeMeter(absl::Hours(2)), nullptr);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].entry_id(), "j1.m1.0");
  EXPECT_EQ(e[0].amount().micros(), 9'960'000);
  EXPECT_EQ(e[0].quantity(), 4);  // GPU-hours
  EXPECT_EQ(e[0].unit(), "gpu_hour");
  EXPECT_EQ(e[0].unit_rate().micros(), 2'490'000);
  EXPECT_FALSE(e[0].provisional());
}

TEST(Ledger, R_X_04_InterruptionSplitsWastedSteps) {
  WastedSteps wasted{.first_step = 801, .steps = 50, .seconds_per_step = 6};
  std::vector<v1::LedgerEntry> e =
      ClosedEntries(ComputeMeter(absl::Hours(1)), &wasted);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].phase(), common::v1::COST_PHASE_ACTIVE_COMPUTE);
  EXPECT_EQ(FromProto(e[0].duration()), absl::Seconds(3300));
  EXPECT_EQ(e[1].phase(), common::v1::COST_PHASE_WASTED_STEPS);
  EXPECT_EQ(FromProto(e[1].duration()), absl::Seconds(300));
  EXPECT_EQ(e[1].steps(), 50);
  EXPECT_EQ(e[1].description(),
            "Steps 801-850 recomputed after spot interruption");
  EXPECT_EQ(e[0].amount().micros() + e[1].amount().micros(), 4'980'000);
  // Wasted time is capped by the meter's own time.
  wasted.steps = 100'000;
  e = ClosedEntries(ComputeMeter(absl::Hours(1)), &wasted);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].phase(), common::v1::COST_PHASE_WASTED_STEPS);
}

TEST(Ledger, R_X_04_TotalsAddUpEntries) {
  internal::JobRecord record;
  WastedSteps wasted{.first_step = 1, .steps = 10, .seconds_per_step = 1};
  AddToTotals(ClosedEntries(ComputeMeter(absl::Minutes(10)), &wasted), record);
  EXPECT_EQ(TotalOf(record, common::v1::COST_PHASE_WASTED_STEPS).steps(), 10);
  EXPECT_EQ(
      TotalOf(record, common::v1::COST_PHASE_ACTIVE_COMPUTE).duration_ms() +
          TotalOf(record, common::v1::COST_PHASE_WASTED_STEPS).duration_ms(),
      600'000);
}

TEST(Ledger, R_PAUSE_03_ProvisionalStorageEntry) {
  v1::Meter m;
  m.set_meter_id("j1.m2");
  m.set_phase(common::v1::COST_PHASE_PAUSED_STORAGE);
  m.set_storage_bytes(100'000'000'000);
  m.mutable_storage_rate_per_gb_month()->set_micros(200'000);
  *m.mutable_start_time() = ToProto(kT0);
  v1::LedgerEntry e = ProvisionalEntry(m, kT0 + absl::Hours(720));
  EXPECT_TRUE(e.provisional());
  EXPECT_EQ(e.unit(), "gb_month");
  EXPECT_EQ(e.amount().micros(), 20'000'000);
  EXPECT_DOUBLE_EQ(e.quantity(), 100);
}

}  // namespace
}  // namespace trainyard::cost
