// Copyright 2026 Trainyard authors.
//
// Queue analytics over a period (R-Q-06) and start-estimate accuracy (R-X-03)
// from the recorded starts. Pure function.
#pragma once

#include <map>
#include <vector>

#include "absl/time/time.h"
#include "trainyard/scheduler/internal/state.pb.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// `starts`: every recorded start (any order); those with start_time in
// [start, end] count (a start at this very moment is in the default period).
// `max_depth_by_day`: highest depth per UTC midnight. Fills everything but
// current_depth, depth_level and the calibration factor (1.0 here). Percentiles
// are nearest-rank. Error of a start = start_time -
// initial_estimated_start_time.
v1::GetQueueAnalyticsResponse ComputeAnalytics(
    const std::vector<internal::StartRecord>& starts, absl::Time start,
    absl::Time end, const std::map<absl::Time, int>& max_depth_by_day);

// Midnight UTC of the day of `t`.
absl::Time DayOf(absl::Time t);

}  // namespace trainyard::scheduler
