// Copyright 2026 Trainyard authors.
//
// Where running jobs' progress comes from (metrics' GetProgress: remaining
// steps x recent seconds per step). An interface so domain tests use a fake;
// grpc_progress_source.h is the real one.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::scheduler {

class ProgressSource {
 public:
  virtual ~ProgressSource() = default;
  // The progress of each job the source can answer for; a job it does not
  // know, or every job when it is unreachable, is left out (the scheduler
  // then falls back to run-time estimates, with LOW confidence). May block
  // for a bounded time; never called with the scheduler's lock held.
  virtual absl::flat_hash_map<std::string, common::v1::Progress> Fetch(
      const std::vector<std::string>& job_ids) = 0;
};

}  // namespace trainyard::scheduler
