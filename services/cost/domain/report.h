// Copyright 2026 Trainyard authors.
//
// GetCostReport's arithmetic: spend lines grouped by creator, preset, GPU
// type, pricing, phase or UTC day, with totals, and the CSV form. A line is
// attributed to the period and day of its start time. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "trainyard/cost/internal/state.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// One priced piece of a job's spend with the job's dimensions.
struct ReportLine {
  std::string job_id;
  common::v1::UserRef created_by;
  common::v1::Preset preset = common::v1::PRESET_UNSPECIFIED;
  common::v1::GpuType gpu_type = common::v1::GPU_TYPE_UNSPECIFIED;
  int32_t gpu_count = 1;
  common::v1::Pricing pricing = common::v1::PRICING_UNSPECIFIED;
  common::v1::CostPhase phase = common::v1::COST_PHASE_UNSPECIFIED;
  absl::Time start;
  int64_t amount_micros = 0;
  int64_t duration_ms = 0;
};

// A dimension filter: values it must (eq) or must not (ne) have.
template <typename T>
struct DimFilter {
  std::vector<T> eq;
  std::vector<T> ne;
  bool Passes(const T& v) const;
};

struct ReportQuery {
  absl::Time start;
  absl::Time end;
  v1::CostReportGrouping group_by = v1::COST_REPORT_GROUPING_CREATOR;
  DimFilter<std::string> created_by;
  DimFilter<int> preset;
  DimFilter<int> gpu_type;
  DimFilter<int> pricing;
  DimFilter<std::string> job_id;
  bool csv = false;
};

bool PassesFilters(const ReportQuery& query, const ReportLine& line);

// The report of `lines` (already within the period and filters) and of the
// completed jobs' estimate errors in `samples`.
v1::GetCostReportResponse BuildReport(
    const ReportQuery& query, const std::vector<ReportLine>& lines,
    const std::vector<internal::HistorySample>& samples,
    const std::string& currency);

}  // namespace trainyard::cost
