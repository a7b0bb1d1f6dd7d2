// Copyright 2026 Trainyard authors.
#include "services/metrics/storage/job_state_store.h"

#include <deque>
#include <optional>

#include "common/status/status_macros.h"
#include "common/storage/iterator.h"
#include "common/storage/keys.h"

namespace trainyard::metrics {
namespace {

constexpr std::string_view kStateCf = "job_state";
constexpr std::string_view kHistoryCf = "stage_history";
constexpr std::string_view kWatchCf = "stall_watch";
// Job keys are never empty (KeyBuilder terminates strings).
constexpr std::string_view kWatchCompleteKey = "";

std::string JobKey(std::string_view job_id) {
  return storage::KeyBuilder().AddString(job_id).Build();
}

std::string StagePrefix(std::string_view job_id, common::v1::Stage stage) {
  return storage::KeyBuilder()
      .AddString(job_id)
      .AddUint64(static_cast<uint64_t>(stage))
      .Build();
}

}  // namespace

std::vector<std::string> JobStateStore::ColumnFamilies() {
  return {std::string(kStateCf), std::string(kHistoryCf),
          std::string(kWatchCf)};
}

absl::StatusOr<internal::JobState> JobStateStore::LoadSnapshot(
    std::string_view job_id) const {
  internal::JobState state;
  RETURN_IF_ERROR(db_.Get(kStateCf, JobKey(job_id), &state));
  return state;
}

size_t JobStateStore::StageSnapshot(const internal::JobState& state,
                                    storage::WriteBatch& batch) const {
  batch.Put(kStateCf, JobKey(state.job_id()), state);
  return state.GetCachedSize();  // set by the serialization in Put
}

void JobStateStore::StageHistory(std::string_view job_id,
                                 common::v1::Stage stage,
                                 const common::v1::SubstatusEntry& entry,
                                 storage::WriteBatch& batch) const {
  std::string key = StagePrefix(job_id, stage);
  storage::AppendUint64(&key, entry.job_seq());
  batch.Put(kHistoryCf, key, entry);
}

absl::Status JobStateStore::FillHistory(common::v1::JobStages* stages) const {
  for (common::v1::StageInfo& info : *stages->mutable_stages()) {
    // Newest first, then reversed: only the last kMaxHistoryPerStage are read.
    std::deque<common::v1::SubstatusEntry> entries;
    bool truncated = false;
    absl::Status parse_status;
    RETURN_IF_ERROR(db_.Scan(
        kHistoryCf,
        storage::KeyRange::Prefix(StagePrefix(stages->job_id(), info.stage())),
        storage::Direction::kReverse,
        [&](std::string_view, std::string_view value) {
          if (static_cast<int>(entries.size()) == kMaxHistoryPerStage) {
            truncated = true;
            return false;
          }
          common::v1::SubstatusEntry entry;
          if (!entry.ParseFromArray(value.data(),
                                    static_cast<int>(value.size()))) {
            parse_status = absl::DataLossError("corrupt stage history entry");
            return false;
          }
          entries.push_front(std::move(entry));
          return true;
        }));
    RETURN_IF_ERROR(parse_status);
    info.clear_history();
    for (auto& e : entries) *info.add_history() = std::move(e);
    info.set_history_truncated(truncated);
  }
  return absl::OkStatus();
}

// The job ids that key `cf`, skipping the key "".
absl::StatusOr<std::vector<std::string>> JobStateStore::ListKeys(
    std::string_view cf) const {
  std::vector<std::string> ids;
  absl::Status status;
  RETURN_IF_ERROR(db_.Scan(cf, storage::KeyRange::All(),
                           storage::Direction::kForward,
                           [&](std::string_view key, std::string_view) {
                             if (key.empty()) return true;
                             storage::KeyReader reader(key);
                             std::string id;
                             if (!reader.ReadString(&id)) {
                               status = absl::DataLossError("corrupt job key");
                               return false;
                             }
                             ids.push_back(std::move(id));
                             return true;
                           }));
  RETURN_IF_ERROR(status);
  return ids;
}

absl::StatusOr<std::vector<std::string>> JobStateStore::ListJobIds() const {
  return ListKeys(kStateCf);
}

void JobStateStore::StageWatch(std::string_view job_id, bool watched,
                               storage::WriteBatch& batch) const {
  if (watched) {
    batch.PutRaw(kWatchCf, JobKey(job_id), "");
  } else {
    batch.Delete(kWatchCf, JobKey(job_id));
  }
}

absl::Status JobStateStore::WriteWatch(
    const std::vector<std::string>& job_ids) const {
  storage::WriteBatch batch;
  for (const std::string& id : job_ids) StageWatch(id, true, batch);
  batch.PutRaw(kWatchCf, kWatchCompleteKey, "");
  return db_.Write(batch);
}

absl::StatusOr<std::optional<std::vector<std::string>>>
JobStateStore::ListWatched() const {
  absl::StatusOr<std::string> marker = db_.GetRaw(kWatchCf, kWatchCompleteKey);
  if (absl::IsNotFound(marker.status())) return std::nullopt;
  RETURN_IF_ERROR(marker.status());
  return ListKeys(kWatchCf);
}

void JobStateStore::DeleteJob(std::string_view job_id,
                              storage::WriteBatch& batch) const {
  batch.Delete(kStateCf, JobKey(job_id));
  StageWatch(job_id, false, batch);
  std::string prefix = JobKey(job_id);
  std::optional<std::string> end = storage::PrefixSuccessor(prefix);
  batch.DeleteRange(kHistoryCf, prefix, *end);  // never all 0xFF
}

}  // namespace trainyard::metrics
