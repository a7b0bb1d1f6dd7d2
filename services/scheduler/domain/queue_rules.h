// Copyright 2026 Trainyard authors.
//
// Queue order, depth level and settings rules (domain.md "Queue", R-Q-01,
// R-Q-04, R-Q-06). Pure functions.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// The place of a queued job: promoted jobs first, in the order they were
// promoted; then FIFO by the job's original creation time; the job id breaks
// ties so the order is total.
struct QueueKey {
  bool promoted = false;
  absl::Time promote_time;
  absl::Time create_time;
  std::string job_id;

  bool operator<(const QueueKey& o) const {
    if (promoted != o.promoted) return promoted;
    if (promoted && promote_time != o.promote_time) {
      return promote_time < o.promote_time;
    }
    return std::tie(create_time, job_id) < std::tie(o.create_time, o.job_id);
  }
  bool operator==(const QueueKey& o) const = default;
};

QueueKey KeyOf(const v1::QueueEntry& entry);

// LOW up to the concurrency limit, MODERATE up to the long-queue threshold,
// HIGH above it.
v1::DepthLevel DepthLevelOf(int depth, int limit, int long_queue_threshold);

// The R-Q-04 banner text, empty when depth <= threshold.
std::string LongQueueWarning(int depth, int long_queue_threshold);

// Defaults: limit 3, threshold 10, buffer 5 min, promotion expiry 24 h.
v1::QueueSettings DefaultSettings();

// Applies `update` to `current` along `paths` (empty = all four) and checks
// the result: limit 1..100, threshold 1..1000, buffer 0..1 h, expiry 1 h..7 d.
// kInvalidArgument naming the field (settings.<name> or update_mask).
absl::StatusOr<v1::QueueSettings> ApplySettingsUpdate(
    const v1::QueueSettings& current, const v1::QueueSettings& update,
    const std::vector<std::string>& paths);

}  // namespace trainyard::scheduler
