// Copyright 2026 Trainyard authors.
//
// job-control's RocksDB:
//   jobs      job_id                  -> internal.JobRecord
//   outbox    job_id | lane | seq     -> internal.Effect   (in order per job
//                                        and callee: see Lane in the .cc)
//   audit     job_id | seq            -> jobs.v1.AuditEntry (append-only; only
//                                        its notifications' delivery status
//                                        changes, as they deliver)
//   cursors   stream name             -> resume cursor (metrics events,
//                                        scheduler assignments, cost alerts)
//   requests  "create" | request_id   -> job_id (CreateJob idempotency)
// One transition is one write batch: the new record, its effects, its audit
// entries, the outbox entry it completes and the cursor of the input that
// caused it (Stage, then the caller writes the batch).
//
// Thread-safe. Sequence numbers are process-wide and start above every one on
// disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "trainyard/jobs/internal/job_record.pb.h"
#include "trainyard/jobs/v1/jobs.pb.h"

namespace trainyard::jobs {

// An outbox entry with its key.
struct OutboxEntry {
  std::string key;
  internal::Effect effect;
};

// What one transition writes.
struct Commit {
  // The new record; unset when only a cursor moves.
  std::optional<internal::JobRecord> record;
  std::vector<internal::Effect> effects;
  // The notify effects of a commit with audit entries are listed on the last
  // one (PENDING) and carry its key (NotifyEffect.audit_key).
  std::vector<v1::AuditEntry> audit;
  // Audit entries rewritten by key (a notification's delivery status).
  std::vector<std::pair<std::string, v1::AuditEntry>> audit_updates;
  // Outbox keys this transition completes.
  std::vector<std::string> done;
  // (stream, cursor) to store.
  std::optional<std::pair<std::string, std::string>> cursor;
  // CreateJob's request_id, remembered with the new job.
  std::string create_request_id;
};

class JobStore {
 public:
  static std::vector<std::string> ColumnFamilies();

  // Reads the highest sequence number on disk. `db` must outlive the store
  // and have ColumnFamilies() open.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(storage::Db& db);

  // Adds `commit` to `batch`.
  void Stage(const Commit& commit, storage::WriteBatch& batch);
  // Stage + write + Publish.
  absl::Status Write(const Commit& commit);
  // Tells the observers about `commit.record` (if any) once its batch is
  // written; Write does it, callers that Stage into their own batch call it
  // after writing.
  void Publish(const Commit& commit) const;

  // Called with every record written, after the write and before the writer
  // answers its caller, in write order (the engine serializes transitions):
  // in-memory views (the jobs list index) stay read-your-writes. Must be
  // quick and must not write to the store.
  // REQUIRES: added before the store is shared between threads.
  using Observer = std::function<void(const internal::JobRecord&)>;
  void AddObserver(Observer observer) {
    observers_.push_back(std::move(observer));
  }

  // kNotFound if no such job (deleted jobs are still found: see
  // JobRecord.deleted).
  absl::StatusOr<internal::JobRecord> Get(std::string_view job_id) const;
  // Every job record (start-up reconcile and timers).
  absl::StatusOr<std::vector<internal::JobRecord>> ListJobs() const;
  // Calls `fn` with each job record in key order, one at a time (the list
  // index's rebuild at start reads 100K jobs without holding them all).
  absl::Status ForEachJob(
      const std::function<void(const internal::JobRecord&)>& fn) const;
  // The job created with `request_id`, if any.
  absl::StatusOr<std::optional<std::string>> FindCreateRequest(
      std::string_view request_id) const;
  // The first (oldest) outbox entry of each job and lane that has any.
  absl::StatusOr<std::vector<OutboxEntry>> OutboxHeads() const;
  // Entries in the outbox (a gauge).
  absl::StatusOr<int64_t> OutboxSize() const;
  // One audit entry by its key (NotifyEffect.audit_key).
  absl::StatusOr<v1::AuditEntry> GetAudit(const std::string& key) const;
  // The job's audit entries, oldest first.
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAudit(
      std::string_view job_id) const;
  // Every job's audit entries (the "-" listing), in key order.
  absl::StatusOr<std::vector<v1::AuditEntry>> ListAllAudit() const;
  // The stored cursor of `stream`; "" if none.
  absl::StatusOr<std::string> Cursor(std::string_view stream) const;

 private:
  JobStore(storage::Db& db, uint64_t next_seq) : db_(db), next_seq_(next_seq) {}

  storage::Db& db_;
  std::atomic<uint64_t> next_seq_;
  std::vector<Observer> observers_;
};

}  // namespace trainyard::jobs
