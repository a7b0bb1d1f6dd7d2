// Copyright 2026 Trainyard authors.
//
// Per-job state of metrics-ingest in RocksDB:
//   job_state      job                      -> internal.JobState snapshot
//   stage_history  job | stage | job_seq    -> common.v1.SubstatusEntry
//   (R-STAGE-04)
//   stall_watch    job                      -> "" for each job that may
//                  stall (domain MayStall after its last event); the key
//                  "" marks the list as complete
// Snapshots are written every few events (the event log is the source of
// truth; the state after a snapshot is replayed from it), history entries
// with their STATUS event. Writes join the caller's batch.
//
// Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/internal/job_state.pb.h"

namespace trainyard::metrics {

class JobStateStore {
 public:
  static constexpr int kMaxHistoryPerStage = 500;

  static std::vector<std::string> ColumnFamilies();

  // `db` must outlive the store and have ColumnFamilies() open.
  explicit JobStateStore(storage::Db& db) : db_(db) {}

  // kNotFound when the job has no snapshot.
  absl::StatusOr<internal::JobState> LoadSnapshot(
      std::string_view job_id) const;
  // Returns the snapshot's serialized size.
  size_t StageSnapshot(const internal::JobState& state,
                       storage::WriteBatch& batch) const;

  void StageHistory(std::string_view job_id, common::v1::Stage stage,
                    const common::v1::SubstatusEntry& entry,
                    storage::WriteBatch& batch) const;
  // Fills each stage's history (the last kMaxHistoryPerStage, oldest first).
  absl::Status FillHistory(common::v1::JobStages* stages) const;

  void DeleteJob(std::string_view job_id, storage::WriteBatch& batch) const;

  // Ids of every job with a snapshot.
  absl::StatusOr<std::vector<std::string>> ListJobIds() const;

  // The stall watch: the jobs the stall check looks at after a restart,
  // without loading every job ever seen.
  void StageWatch(std::string_view job_id, bool watched,
                  storage::WriteBatch& batch) const;
  // Writes the whole watch at once and marks it complete (on a data dir
  // written before it existed).
  absl::Status WriteWatch(const std::vector<std::string>& job_ids) const;
  // The watched job ids, or nullopt when the list was never marked complete
  // (a data dir written before it existed).
  absl::StatusOr<std::optional<std::vector<std::string>>> ListWatched() const;

 private:
  absl::StatusOr<std::vector<std::string>> ListKeys(std::string_view cf) const;

  storage::Db& db_;
};

}  // namespace trainyard::metrics
