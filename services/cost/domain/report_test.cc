// Copyright 2026 Trainyard authors.
#include "services/cost/domain/report.h"

#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);  // 2025-11-29 03:00

ReportLine Line(std::string job, std::string user, common::v1::CostPhase phase,
                int64_t amount, absl::Time start) {
  ReportLine l;
  l.job_id = std::move(job);
  l.created_by.set_user_id(user);
  l.created_by.set_display_name(user);
  l.phase = phase;
  l.gpu_type = common::v1::GPU_TYPE_H100_80GB;
  l.amount_micros = amount;
  l.duration_ms = 3'600'000;
  l.start = start;
  return l;
}

TEST(Report, GroupsSortsAndKeepsStorageApart) {
  ReportQuery q{.start = kT0 - absl::Hours(24), .end = kT0 + absl::Hours(48)};
  std::vector<ReportLine> lines = {
      Line("a", "alice", common::v1::COST_PHASE_ACTIVE_COMPUTE, 1'000'000, kT0),
      Line("b", "bob", common::v1::COST_PHASE_ACTIVE_COMPUTE, 3'000'000, kT0),
      Line("a", "alice", common::v1::COST_PHASE_PAUSED_STORAGE, 500, kT0),
      Line("c", "alice", common::v1::COST_PHASE_WASTED_STEPS, 1'000'001,
           kT0 + absl::Hours(24))};
  v1::GetCostReportResponse r = BuildReport(q, lines, {}, "USD");
  ASSERT_EQ(r.rows_size(), 2);
  EXPECT_EQ(r.rows(0).key(), "bob");
  EXPECT_EQ(r.rows(1).amount().micros(), 2'000'001);
  EXPECT_EQ(r.rows(1).job_count(), 2);
  EXPECT_EQ(r.rows(1).average_per_job().micros(), 1'000'001);  // half up
  EXPECT_EQ(r.total().micros(), 5'000'001);
  EXPECT_EQ(r.paused_storage_total().micros(), 500);
  q.group_by = v1::COST_REPORT_GROUPING_DAY;
  r = BuildReport(q, lines, {}, "USD");
  ASSERT_EQ(r.rows_size(), 2);
  EXPECT_EQ(r.rows(0).key(), "2025-11-29");
  EXPECT_EQ(r.rows(1).key(), "2025-11-30");
}

TEST(Report, CsvIsRfc4180WithFormulaCellsNeutralised) {
  ReportQuery q{.start = kT0, .end = kT0 + absl::Hours(1), .csv = true};
  v1::GetCostReportResponse r =
      BuildReport(q,
                  {Line("a", "=evil", common::v1::COST_PHASE_ACTIVE_COMPUTE,
                        54'100'000, kT0)},
                  {}, "USD");
  EXPECT_EQ(r.csv(),
            "key,label,amount_usd,job_count,gpu_hours,average_per_job_usd\r\n"
            "'=evil,'=evil,54.100000,1,1.000000,54.100000\r\n");
}

TEST(Report, EstimateAccuracyOfFinishedJobs) {
  internal::HistorySample s1, s2;
  s1.set_estimate_low_micros(100);
  s1.set_estimate_high_micros(120);
  s1.set_actual_micros(110);
  s2.set_estimate_low_micros(100);
  s2.set_estimate_high_micros(120);
  s2.set_actual_micros(150);
  *s1.mutable_finish_time() = *s2.mutable_finish_time() =
      google::protobuf::Timestamp();
  s1.mutable_finish_time()->set_seconds(absl::ToUnixSeconds(kT0));
  s2.mutable_finish_time()->set_seconds(absl::ToUnixSeconds(kT0));
  ReportQuery q{.start = kT0, .end = kT0 + absl::Hours(1)};
  v1::EstimateAccuracy a =
      BuildReport(q, {}, {s1, s2}, "USD").estimate_accuracy();
  EXPECT_EQ(a.job_count(), 2);
  EXPECT_DOUBLE_EQ(a.mean_ratio(), 1.3);
  EXPECT_DOUBLE_EQ(a.min_ratio(), 1.1);
  EXPECT_DOUBLE_EQ(a.max_ratio(), 1.5);
  EXPECT_DOUBLE_EQ(a.within_range_fraction(), 0.5);
}

}  // namespace
}  // namespace trainyard::cost
