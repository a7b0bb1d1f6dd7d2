// Copyright 2026 Trainyard authors.
//
// For tests: progress set by the test; unknown jobs are kUnavailable (as if
// metrics were unreachable).
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "services/cost/app/progress_source.h"

namespace trainyard::cost {

class FakeProgressSource final : public ProgressSource {
 public:
  void Set(const std::string& job_id, ProgressView view) {
    absl::MutexLock lock(&mu_);
    views_[job_id] = view;
  }
  void Clear(const std::string& job_id) {
    absl::MutexLock lock(&mu_);
    views_.erase(job_id);
  }
  absl::StatusOr<ProgressView> Progress(const std::string& job_id) override {
    absl::MutexLock lock(&mu_);
    auto it = views_.find(job_id);
    if (it == views_.end())
      return absl::UnavailableError("metrics unreachable");
    return it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, ProgressView> views_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::cost
