// Copyright 2026 Trainyard authors.
//
// The scheduler's records in RocksDB: one JobRecord per job (queued, running
// or its last outcome), promotions, recorded starts (analytics), per-user
// notification settings, settings and counters, the answers given per
// request_id, and the highest depth per day. Everything is loaded at start
// (the queue is small); writes are staged into a caller-owned WriteBatch and
// applied with Write, so one change is one atomic batch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "trainyard/scheduler/internal/state.pb.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// Everything stored, as loaded at start.
struct StoredState {
  std::optional<v1::QueueSettings> settings;
  internal::Counters counters;
  std::vector<internal::JobRecord> jobs;
  std::vector<v1::Promotion> promotions;
  std::vector<internal::StartRecord> starts;
  std::vector<v1::QueueNotificationSettings> notification_settings;
  std::map<absl::Time, int> max_depth_by_day;
};

// Thread-safe (as Db is). `db` must outlive the store and hold
// ColumnFamilies().
class SchedulerStore {
 public:
  static std::vector<std::string> ColumnFamilies();

  explicit SchedulerStore(storage::Db& db) : db_(db) {}

  // Reads every record. kDataLoss when a record does not parse.
  absl::StatusOr<StoredState> LoadAll() const;

  // The answer recorded for `request_id`, if any.
  absl::StatusOr<std::optional<internal::RequestRecord>> FindRequest(
      std::string_view request_id) const;

  static void StageJob(storage::WriteBatch& batch,
                       const internal::JobRecord& job);
  static void StagePromotion(storage::WriteBatch& batch,
                             const v1::Promotion& promotion);
  static void StageStart(storage::WriteBatch& batch,
                         const internal::StartRecord& start);
  static void StageDeleteStart(storage::WriteBatch& batch,
                               const internal::StartRecord& start);
  static void StageNotificationSettings(storage::WriteBatch& batch,
                                        const v1::QueueNotificationSettings& s);
  static void StageSettings(storage::WriteBatch& batch,
                            const v1::QueueSettings& settings);
  static void StageCounters(storage::WriteBatch& batch,
                            const internal::Counters& counters);
  static void StageRequest(storage::WriteBatch& batch,
                           std::string_view request_id,
                           const internal::RequestRecord& record);
  static void StageDayDepth(storage::WriteBatch& batch, absl::Time day,
                            int max_depth);

  // Applies `batch` atomically (in the WAL when it returns).
  absl::Status Write(const storage::WriteBatch& batch) {
    return db_.Write(batch);
  }

 private:
  storage::Db& db_;
};

}  // namespace trainyard::scheduler
