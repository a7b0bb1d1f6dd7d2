// Copyright 2026 Trainyard authors.
//
// A meter's ledger lines (R-X-04). Each entry is priced on its own whole
// duration (money.h), so a job's total is the exact sum of its entries. An
// interrupted compute meter splits: the GPU time of the steps after the last
// checkpoint becomes a WASTED_STEPS entry at the meter's rate. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "trainyard/cost/internal/state.pb.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

// True for ACTIVE_COMPUTE, RECOVERY_OVERHEAD and WASTED_STEPS (GPU time).
bool IsComputePhase(common::v1::CostPhase phase);

// The amount of `meter` from its start to `end` (its running amount while
// open).
int64_t MeterAmountAt(const v1::Meter& meter, absl::Time end);

// Steps lost to an interruption, and what one step took.
struct WastedSteps {
  int64_t first_step = 0;  // the first step recomputed (checkpoint + 1)
  int64_t steps = 0;
  double seconds_per_step = 0;
};

// The entries of `meter`, closed at its end_time (state CLOSED), ids
// "<meter_id>.<n>". With `wasted` (compute meters only), the last
// min(steps x seconds_per_step, duration) of it is WASTED_STEPS.
std::vector<v1::LedgerEntry> ClosedEntries(const v1::Meter& meter,
                                           const WastedSteps* wasted);

// The running entry of an open meter up to `now` (provisional).
v1::LedgerEntry ProvisionalEntry(const v1::Meter& meter, absl::Time now);

// Adds `entries` to the record's closed totals.
void AddToTotals(const std::vector<v1::LedgerEntry>& entries,
                 internal::JobRecord& record);

// The record's totals, sized for every phase.
internal::PhaseTotal& TotalOf(internal::JobRecord& record,
                              common::v1::CostPhase phase);
const internal::PhaseTotal& TotalOf(const internal::JobRecord& record,
                                    common::v1::CostPhase phase);

}  // namespace trainyard::cost
