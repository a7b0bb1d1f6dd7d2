// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/jobs/views/job_index.h
// -----------------------------------------------------------------------------
//
// The jobs list's in-memory index (R-LIST-01..04, R-LIST-07): one JobRow per
// job that is not deleted, rebuilt from RocksDB at start and kept current by
// the store's observer (JobStore::AddObserver), which runs after each write
// and before the writer answers: a caller sees its own change in the next
// list (read-your-writes). Full records are not kept: a page reads its few
// records from the store.
//
// Also the change log WatchJobs follows: every observed write gets a
// sequence number and keeps the job's row before and after it (rows are
// shared, immutable snapshots: a row superseded by a write lives on only in
// the log), so a watcher can tell whether a job entered, left or stayed in
// its view since the last change it saw. The last kMaxChanges are kept in
// memory; a watcher that falls further behind (or resumes after a restart:
// the log's epoch changes) is told to reload.
//
// Thread-safe: queries share a reader lock; updates take it exclusively.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/jobs/storage/job_store.h"
#include "services/jobs/views/job_query.h"

namespace trainyard::jobs {

class JobIndex {
 public:
  // Changes kept for watchers that fall behind (each holds the row it
  // superseded: ~50 MB at most with 500-byte rows).
  static constexpr size_t kMaxChanges = 100000;

  // Reads every record of `store`. `epoch` names this process's change log
  // (resume tokens of another epoch are refused).
  static absl::StatusOr<std::unique_ptr<JobIndex>> Build(const JobStore& store,
                                                         uint64_t epoch);

  // The store observer: keeps `record`'s row (drops it once deleted), logs
  // the change and wakes the listeners.
  void Upsert(const internal::JobRecord& record);

  struct Page {
    std::vector<std::string> job_ids;
    int32_t total_size = 0;
    // Position of the page's last row when more follow.
    std::optional<SortKey> next;
  };
  // The `page_size` rows after `after` (none: from the start) of the jobs
  // matching `query`, in its order at `now_us`, and how many match in all.
  Page Query(const JobQuery& query, const std::optional<SortKey>& after,
             int page_size, int64_t now_us) const;

  // Every matching job id, in order (exports).
  std::vector<std::string> MatchingIds(const JobQuery& query,
                                       int64_t now_us) const;

  struct Creator {
    std::string user_id;
    std::string display_name;
    int32_t job_count = 0;
    int64_t last_create_us = 0;
  };
  // Every creator of a job that is not deleted, by user_id.
  std::vector<Creator> Creators() const;

  // A copy of the job's row; nullopt when unknown or deleted.
  std::optional<JobRow> Row(const std::string& job_id) const;
  size_t size() const;

  // ---- the change log (WatchJobs) ----------------------------------------
  uint64_t epoch() const { return epoch_; }
  // Sequence number of the latest change (0: none yet).
  uint64_t LastChange() const;
  // What happened to one job between two points of the log.
  struct Change {
    std::string job_id;
    // The row as of the start (null: the job did not exist yet) and as of
    // the end (null: deleted).
    std::shared_ptr<const JobRow> before;
    std::shared_ptr<const JobRow> after;
  };
  // The jobs changed after `seq`, each once (coalesced), in the order of
  // their first change: at most `max` jobs, with *upto set to the sequence
  // number covered (before and after are as of `seq` and *upto). nullopt
  // when changes after `seq` were dropped from the log (or `seq` is ahead of
  // it).
  std::optional<std::vector<Change>> ChangesSince(uint64_t seq, size_t max,
                                                  uint64_t* upto) const;

  // Called (without locks held) after every change. Returns an id for
  // RemoveListener.
  using Listener = std::function<void()>;
  uint64_t AddListener(Listener listener);
  void RemoveListener(uint64_t id);

 private:
  explicit JobIndex(uint64_t epoch) : epoch_(epoch) {}

  struct LoggedChange {
    uint64_t seq;
    std::shared_ptr<const JobRow> before;  // null: created by this change
    std::shared_ptr<const JobRow> after;   // null: deleted by this change
    const std::string& job_id() const {
      return after ? after->job_id : before->job_id;
    }
  };

  // Puts the record's row (or drops it) and returns the row it replaced.
  std::shared_ptr<const JobRow> PutLocked(const internal::JobRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t epoch_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<const JobRow>> rows_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> position_ ABSL_GUARDED_BY(mu_);
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<LoggedChange> changes_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  uint64_t next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<uint64_t, std::shared_ptr<Listener>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace trainyard::jobs
