// Copyright 2026 Trainyard authors.
#include "services/metrics/storage/job_states.h"

#include <limits>

#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {

std::shared_ptr<JobStates::Slot> JobStates::Find(std::string_view job_id) {
  absl::MutexLock lock(&mu_);
  auto& slot = slots_[ToAbsl(job_id)];
  if (slot == nullptr) slot = std::make_shared<Slot>();
  return slot;
}

std::vector<std::pair<std::string, std::shared_ptr<JobStates::Slot>>>
JobStates::All() {
  std::vector<std::pair<std::string, std::shared_ptr<Slot>>> all;
  absl::MutexLock lock(&mu_);
  all.reserve(slots_.size());
  for (const auto& [id, slot] : slots_) all.emplace_back(id, slot);
  return all;
}

absl::Status JobStates::LoadLocked(std::string_view job_id, Slot& slot) {
  if (slot.loaded) return absl::OkStatus();
  absl::StatusOr<internal::JobState> snapshot = snapshots_.LoadSnapshot(job_id);
  if (absl::IsNotFound(snapshot.status())) {
    slot.state = NewJobState(job_id);
    slot.exists = false;
    slot.loaded = true;
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
  slot.state = std::move(state);
  slot.exists = true;
  slot.loaded = true;
  return absl::OkStatus();
}

template <typename Read>
auto JobStates::ReadState(std::string_view job_id, Read read)
    -> absl::StatusOr<decltype(read(std::declval<internal::JobState>()))> {
  RETURN_IF_ERROR(RequireJobId(job_id));
  std::shared_ptr<Slot> slot = Find(job_id);
  absl::MutexLock lock(&slot->mu);
  RETURN_IF_ERROR(LoadLocked(job_id, *slot));
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

absl::Status JobStates::LoadAll() {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, snapshots_.ListJobIds());
  for (const std::string& id : ids) {
    std::shared_ptr<Slot> slot = Find(id);
    absl::MutexLock lock(&slot->mu);
    RETURN_IF_ERROR(LoadLocked(id, *slot));
  }
  return absl::OkStatus();
}

}  // namespace trainyard::metrics
