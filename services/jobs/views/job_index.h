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
// sequence number; the last kMaxChanges are kept in memory, so a watcher
// that falls further behind (or resumes after a restart: the log's epoch
// changes) is told to reload.
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
  // Changes kept for watchers that fall behind.
  static constexpr size_t kMaxChanges = 200000;

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
  // Job ids changed after `seq` (each once, oldest change first; at most
  // `max`, with *upto set to the sequence number covered), or nullopt when
  // changes after `seq` were dropped from the log.
  std::optional<std::vector<std::string>> ChangedSince(uint64_t seq, size_t max,
                                                       uint64_t* upto) const;

  // Called (without locks held) after every change. Returns an id for
  // RemoveListener.
  using Listener = std::function<void()>;
  uint64_t AddListener(Listener listener);
  void RemoveListener(uint64_t id);

 private:
  explicit JobIndex(uint64_t epoch) : epoch_(epoch) {}

  void PutLocked(const internal::JobRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t epoch_;
  mutable absl::Mutex mu_;
  std::vector<JobRow> rows_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> position_ ABSL_GUARDED_BY(mu_);
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<uint64_t, std::string>> changes_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  uint64_t next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<uint64_t, std::shared_ptr<Listener>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace trainyard::jobs
