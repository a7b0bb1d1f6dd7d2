// Copyright 2026 Trainyard authors.
//
// A job's cost as the dashboard shows it (R-DASH-06, R-X-04, R-X-05,
// R-PAUSE-03, R-CAN-03), and the alerts its spend crosses. Pure functions of
// the job's record, its progress and `now`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/summaries.h"
#include "trainyard/cost/internal/state.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// GREEN below 80 % of `low`, YELLOW from 80 % to 100 % inclusive, RED above,
// compared exactly in integers. GREEN when low <= 0.
common::v1::CostLevel LevelOf(int64_t spend_micros, int64_t low_micros);

// What metrics says of a job's progress (projection input).
struct ProgressView {
  int64_t step = 0;
  int64_t total_steps = 0;
  std::optional<double> seconds_per_step;
  absl::Duration active_elapsed;
};

// Spend (compute phases) and paused storage accrued to `now`, open meters
// included.
struct Accrued {
  int64_t spend_micros = 0;
  int64_t storage_micros = 0;
  int64_t compute_ms = 0;
  int64_t storage_ms = 0;
};
Accrued AccruedAt(const internal::JobRecord& record, absl::Time now);

// GetJobCostResponse for `record` at `now`. `progress` is metrics' view or the
// reason it is unavailable (the projection then falls back to the estimate and
// says so in projection_note).
v1::GetJobCostResponse JobCost(const internal::JobRecord& record,
                               absl::Time now,
                               const absl::StatusOr<ProgressView>& progress);

// Which alerts `spend_micros` crosses that have not fired yet.
struct DueKinds {
  bool estimate_warning = false;
  bool over_estimate = false;
  bool budget_warning = false;
  bool budget_exceeded = false;
  bool any() const {
    return estimate_warning || over_estimate || budget_warning ||
           budget_exceeded;
  }
};
DueKinds DueAlertKinds(const internal::JobRecord& record, int64_t spend_micros);

// The alerts `spend_micros` crosses that have not fired since the estimate or
// budget was set, in threshold order; marks them fired in `record` (and sets
// budget_exceeded_time). Each crossing fires once. alert_id and time are
// left to the caller (which numbers alerts durably).
std::vector<v1::BudgetAlert> DueAlerts(internal::JobRecord& record,
                                       int64_t spend_micros, absl::Time now);

}  // namespace trainyard::cost
