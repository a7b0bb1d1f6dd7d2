// Copyright 2026 Trainyard authors.
//
// Where cost reads a job's progress (remaining steps, recent seconds per
// step): MetricsService in production (grpc/metrics_progress.h), a fake in
// tests. Cost works without it: projections then fall back to the estimate.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/cost/domain/job_cost.h"

namespace trainyard::cost {

class ProgressSource {
 public:
  virtual ~ProgressSource() = default;
  // The job's progress; kNotFound for a job metrics does not know,
  // kUnavailable / kDeadlineExceeded when metrics cannot answer. Thread-safe;
  // may block for the source's own bounded deadline.
  virtual absl::StatusOr<ProgressView> Progress(const std::string& job_id) = 0;
  // Progress of many jobs, one result per id in order (a source may read
  // them in one call).
  virtual std::vector<absl::StatusOr<ProgressView>> ProgressMany(
      const std::vector<std::string>& job_ids) {
    std::vector<absl::StatusOr<ProgressView>> out;
    out.reserve(job_ids.size());
    for (const std::string& id : job_ids) out.push_back(Progress(id));
    return out;
  }
};

// No metrics configured: every read is kUnavailable.
class NoProgressSource final : public ProgressSource {
 public:
  absl::StatusOr<ProgressView> Progress(const std::string&) override {
    return absl::UnavailableError("no metrics address configured");
  }
};

}  // namespace trainyard::cost
