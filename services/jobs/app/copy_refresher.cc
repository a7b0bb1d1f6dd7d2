// Copyright 2026 Trainyard authors.
#include "services/jobs/app/copy_refresher.h"

#include <algorithm>
#include <vector>

#include "services/jobs/domain/copies.h"

namespace trainyard::jobs {

CopyRefresher::CopyRefresher(Engine& engine, MetricsClient& metrics,
                             CostClient& cost)
    : engine_(engine), metrics_(metrics), cost_(cost) {}

void CopyRefresher::Observe(const internal::JobRecord& record) {
  absl::MutexLock lock(&mu_);
  if (NeedsCopyRefresh(record)) {
    ids_[record.job().job_id()] = ++generation_;
  } else {
    ids_.erase(record.job().job_id());
  }
}

size_t CopyRefresher::tracked() const {
  absl::MutexLock lock(&mu_);
  return ids_.size();
}

absl::Status CopyRefresher::Seed() {
  std::vector<std::string> ids;
  absl::Status s =
      engine_.store().ForEachJob([&ids](const internal::JobRecord& r) {
        if (NeedsCopyRefresh(r)) ids.push_back(r.job().job_id());
      });
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  // try_emplace: an id observed during the scan keeps its newer generation.
  for (const std::string& id : ids) ids_.try_emplace(id, ++generation_);
  seeded_ = true;
  return absl::OkStatus();
}

void CopyRefresher::Drop(const std::string& id, uint64_t generation) {
  absl::MutexLock lock(&mu_);
  auto it = ids_.find(id);
  if (it != ids_.end() && it->second <= generation) ids_.erase(it);
}

absl::Status CopyRefresher::RefreshOnce() {
  bool seeded;
  {
    absl::MutexLock lock(&mu_);
    seeded = seeded_;
  }
  if (!seeded) {
    if (absl::Status s = Seed(); !s.ok()) return s;
  }
  std::vector<std::string> ids;
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    generation = generation_;
    for (const auto& [id, gen] : ids_) ids.push_back(id);
  }
  absl::Status first;
  for (size_t from = 0; from < ids.size(); from += kBatch) {
    const std::vector<std::string> batch(
        ids.begin() + from, ids.begin() + std::min(ids.size(), from + kBatch));
    absl::StatusOr<std::vector<common::v1::Progress>> progress =
        metrics_.BatchGetProgress(batch);
    absl::StatusOr<std::vector<common::v1::CostSummary>> costs =
        cost_.BatchGetJobCosts(batch);
    if (first.ok() && !progress.ok()) first = progress.status();
    if (first.ok() && !costs.ok()) first = costs.status();
    for (size_t i = 0; i < batch.size(); ++i) {
      CopyRefresh copy;
      // Both APIs answer one item per id in request order.
      if (progress.ok() && i < progress->size() &&
          (*progress)[i].job_id() == batch[i]) {
        copy.progress = (*progress)[i];
      }
      if (costs.ok() && i < costs->size() && (*costs)[i].job_id() == batch[i]) {
        copy.cost = (*costs)[i];
      }
      if (!copy.progress && !copy.cost) continue;
      absl::StatusOr<internal::JobRecord> after = engine_.Apply(batch[i], copy);
      if (absl::IsNotFound(after.status())) {
        Drop(batch[i], generation);
      } else if (!after.ok()) {
        if (first.ok()) first = after.status();
      } else if (!NeedsCopyRefresh(*after)) {
        // Also when nothing was written (so the observer saw nothing).
        Drop(batch[i], generation);
      }
    }
  }
  return first;
}

}  // namespace trainyard::jobs
