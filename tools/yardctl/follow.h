// Copyright 2026 Trainyard authors.
//
// Following one job to its end: `watch JOB` and `submit --wait/--watch`.
// The job's state and cost come from JobService.WatchJobs (resumed with its
// token when the stream drops); progress, stages, metrics and the loss curve
// from MetricsService.SubscribeJob (also resumed with its token). Nothing is
// polled.
#pragma once

#include <functional>
#include <string>

#include "tools/yardctl/cli.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::yardctl {

struct FollowOptions {
  // Show progress (panel on a TTY, one line per change otherwise); when false
  // only state changes are reported, on stderr.
  bool progress = true;
  // Also stop (exit 0) once this holds, e.g. state PAUSED for `pause --wait`.
  std::function<bool(const jobs::v1::Job&)> until;
};

// Follows `job_id` until it is COMPLETED (0), FAILED (1) or CANCELLED (2).
// A PAUSED job is not over: following goes on until it is resumed and ends.
// Errors return the exit code of Cli::Fail (job-control unreachable for
// longer than two minutes: 4).
int FollowJob(Cli& cli, const std::string& job_id, const FollowOptions& opts);

}  // namespace trainyard::yardctl
