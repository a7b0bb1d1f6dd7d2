// Copyright 2026 Trainyard authors.
#include "services/metrics/storage/job_states.h"

#include <limits>

#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {

absl::Status JobStates::LoadLocked(const SlotHandle& slot) {
  if (slot->loaded) return absl::OkStatus();
  const std::string& job_id = slot.key();
  absl::StatusOr<internal::JobState> snapshot = snapshots_.LoadSnapshot(job_id);
  if (absl::IsNotFound(snapshot.status())) {
    slot->state = NewJobState(job_id);
    slot->exists = false;
    slot->loaded = true;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(snapshot.status());
  internal::JobState state = *std::move(snapshot);
  // The snapshot may be a few events old: fold the ones after it.
  RETURN_IF_ERROR(events_.ReadRange(job_id, state.last_job_seq(),
                                    std::numeric_limits<uint64_t>::max(),
                                    [&](const v1::Event& event) {
                                      FoldEvent(options_, event, &state);
                                      return true;
                                    }));
  slot->state = std::move(state);
  slot->exists = true;
  slot->loaded = true;
  Recharge(slot, slot->state.ByteSizeLong());
  return absl::OkStatus();
}

void JobStates::Watch(const std::string& job_id,
                      std::optional<absl::Time> next_check) {
  absl::MutexLock lock(&watch_mu_);
  if (next_check.has_value()) {
    watched_[job_id] = *next_check;
  } else {
    watched_.erase(job_id);
  }
}

template <typename Read>
auto JobStates::ReadState(std::string_view job_id, Read read)
    -> absl::StatusOr<decltype(read(std::declval<internal::JobState>()))> {
  SlotHandle slot = Find(job_id);
  absl::MutexLock lock(&slot->mu);
  RETURN_IF_ERROR(LoadLocked(slot));
  if (!slot->exists) return JobHasNoEvents(job_id);
  return read(slot->state);
}

absl::StatusOr<internal::JobState> JobStates::State(std::string_view job_id) {
  return ReadState(job_id, [](const internal::JobState& s) { return s; });
}

absl::StatusOr<JobStates::Head> JobStates::GetHead(std::string_view job_id) {
  return ReadState(job_id, [](const internal::JobState& s) {
    return Head{s.last_job_seq(), s.progress().job_state()};
  });
}

absl::Status JobStates::LoadWatch() {
  ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> watched,
                   snapshots_.ListWatched());
  if (!watched.has_value()) {
    // Written before the watch existed: build it once from every state.
    watched.emplace();
    ASSIGN_OR_RETURN(std::vector<std::string> ids, snapshots_.ListJobIds());
    for (const std::string& id : ids) {
      SlotHandle slot = Find(id);
      absl::MutexLock lock(&slot->mu);
      RETURN_IF_ERROR(LoadLocked(slot));
      if (Watches(slot->exists, slot->state)) watched->push_back(id);
    }
    RETURN_IF_ERROR(snapshots_.WriteWatch(*watched));
  }
  absl::MutexLock lock(&watch_mu_);
  for (std::string& id : *watched) {
    watched_.emplace(std::move(id), absl::InfinitePast());
  }
  return absl::OkStatus();
}

std::vector<std::string> JobStates::Watched() const {
  std::vector<std::string> ids;
  absl::MutexLock lock(&watch_mu_);
  for (const auto& [id, next_check] : watched_) ids.push_back(id);
  return ids;
}

std::vector<std::string> JobStates::DueForCheck(absl::Time now) const {
  std::vector<std::string> ids;
  absl::MutexLock lock(&watch_mu_);
  for (const auto& [id, next_check] : watched_) {
    if (next_check <= now) ids.push_back(id);
  }
  return ids;
}

}  // namespace trainyard::metrics
