// Copyright 2026 Trainyard authors.
//
// Start-time estimates of queued jobs (R-Q-03) and their confidence (R-Q-01,
// domain.md "Queue"): a simulation of slot releases. Pure functions; `now` is
// passed in.
#pragma once

#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// A job holding a slot.
struct RunningJob {
  // Time until it frees its slot.
  absl::Duration remaining;
  // Its remaining time comes from a measured, steady speed (metrics'
  // progress); false when it is a run-time estimate minus elapsed time.
  bool steady = false;
};

struct StartEstimate {
  absl::Time start;
  v1::Confidence confidence = v1::CONFIDENCE_UNSPECIFIED;
};

// The remaining time of a running job: metrics' estimate when it has one
// (`measured`, steady), else its estimated duration minus the time since its
// slot was assigned (not steady), never below zero.
RunningJob RemainingOf(std::optional<absl::Duration> measured,
                       absl::Duration estimated_duration,
                       absl::Time assign_time, absl::Time now);

// Estimates, in queue order, the start of each queued job (durations in queue
// order). Each running job frees its slot at now + remaining; with more
// running jobs than `limit` (after the limit was lowered) the earliest
// releases free no slot until fewer than `limit` run. A queued job takes the
// earliest-free slot, starts `buffer` after it frees (never before now) and
// holds it for its duration. Confidence: HIGH with no job ahead, MEDIUM with
// 1-2 ahead, LOW with 3+ ahead; LOW also when the slot a job gets frees at a
// time that rests on a running job without a steady speed. O(n log limit).
// REQUIRES: limit >= 1.
std::vector<StartEstimate> EstimateStarts(
    const std::vector<RunningJob>& running,
    const std::vector<absl::Duration>& queued_durations, int limit,
    absl::Duration buffer, absl::Time now);

// The multiplier learned from completed runs: the median of their run
// ratios (actual slot time / estimated duration) over the most recent
// `window`, clamped to [0.5, 3]; 1.0 with fewer than `min_samples`.
double CalibrationFactor(const std::vector<double>& recent_ratios,
                         size_t min_samples = 3, size_t window = 50);

// The earliest time a running job frees its slot; nullopt when none runs.
std::optional<absl::Time> NextSlotFree(const std::vector<RunningJob>& running,
                                       absl::Time now);

}  // namespace trainyard::scheduler
