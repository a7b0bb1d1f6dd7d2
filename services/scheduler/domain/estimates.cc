// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/estimates.h"

#include <algorithm>
#include <queue>

namespace trainyard::scheduler {
namespace {

// When a slot frees, and whether that time rests on steady speeds only.
struct FreeSlot {
  absl::Time at;
  bool steady;
  bool operator>(const FreeSlot& o) const { return at > o.at; }
};

v1::Confidence ConfidenceOf(size_t jobs_ahead, bool steady) {
  if (!steady || jobs_ahead >= 3) return v1::CONFIDENCE_LOW;
  return jobs_ahead == 0 ? v1::CONFIDENCE_HIGH : v1::CONFIDENCE_MEDIUM;
}

}  // namespace

RunningJob RemainingOf(std::optional<absl::Duration> measured,
                       absl::Duration estimated_duration,
                       absl::Time assign_time, absl::Time now) {
  if (measured.has_value()) {
    return {std::max(*measured, absl::ZeroDuration()), true};
  }
  return {
      std::max(estimated_duration - (now - assign_time), absl::ZeroDuration()),
      false};
}

std::vector<StartEstimate> EstimateStarts(
    const std::vector<RunningJob>& running,
    const std::vector<absl::Duration>& queued_durations, int limit,
    absl::Duration buffer, absl::Time now) {
  std::vector<FreeSlot> releases;
  releases.reserve(running.size());
  for (const RunningJob& job : running) {
    releases.push_back({now + job.remaining, job.steady});
  }
  std::sort(releases.begin(), releases.end(),
            [](const FreeSlot& a, const FreeSlot& b) { return a.at < b.at; });
  // Over the limit: the first (running - limit) releases free no slot.
  const size_t slots = static_cast<size_t>(std::max(limit, 1));
  size_t skip = releases.size() > slots ? releases.size() - slots : 0;
  std::priority_queue<FreeSlot, std::vector<FreeSlot>, std::greater<FreeSlot>>
      free_slots;
  // A skipped release that is not steady makes every later one unsteady.
  bool skipped_steady = true;
  for (size_t j = 0; j < skip; ++j) skipped_steady &= releases[j].steady;
  for (size_t i = skip; i < releases.size(); ++i) {
    free_slots.push({releases[i].at, releases[i].steady && skipped_steady});
  }
  for (size_t i = releases.size(); i < slots; ++i) free_slots.push({now, true});

  std::vector<StartEstimate> out;
  out.reserve(queued_durations.size());
  for (size_t i = 0; i < queued_durations.size(); ++i) {
    FreeSlot slot = free_slots.top();
    free_slots.pop();
    absl::Time start = std::max(slot.at, now) + buffer;
    out.push_back({start, ConfidenceOf(i, slot.steady)});
    free_slots.push({start + queued_durations[i], slot.steady});
  }
  return out;
}

double CalibrationFactor(const std::vector<double>& recent_ratios,
                         size_t min_samples, size_t window) {
  if (recent_ratios.size() < min_samples) return 1.0;
  size_t n = std::min(window, recent_ratios.size());
  std::vector<double> last(recent_ratios.end() - n, recent_ratios.end());
  std::nth_element(last.begin(), last.begin() + n / 2, last.end());
  return std::clamp(last[n / 2], 0.5, 3.0);
}

std::optional<absl::Time> NextSlotFree(const std::vector<RunningJob>& running,
                                       absl::Time now) {
  std::optional<absl::Time> next;
  for (const RunningJob& job : running) {
    absl::Time at = now + job.remaining;
    if (!next.has_value() || at < *next) next = at;
  }
  return next;
}

}  // namespace trainyard::scheduler
