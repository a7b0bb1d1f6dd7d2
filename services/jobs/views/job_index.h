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
// So that a query does not look at every row (100K jobs: a first page in
// well under a millisecond), the index also keeps, updated with each row:
//   - one ordering per sort column (all but duration, which ticks): a first
//     page walks it from the page token's position and stops after
//     page_size + 1 matches;
//   - postings (job sets) per state, creator, preset, GPU type, pricing and
//     tag: a filter with an OR group of such values (e.g. two statuses, or
//     one creator) only looks at the jobs of its smallest group, and a filter
//     made of one such group alone is counted from the postings' sizes;
//   - postings per word of the folded name, notes and tags (words: runs of
//     letters, digits and non-ASCII characters): a keyword's candidates are
//     the jobs with a word containing each of its pieces, found by scanning
//     the word list (not the rows).
// A cost or create-time range reads the rows between its bounds in that
// column's ordering (and a walk in that order starts at the range's edge).
// The query reads the smallest of these candidate sets; every candidate is
// still checked with Matches, so total_size stays exact (counted without
// checking when the set holds exactly the matches: a filter of one OR group
// of postings or of ranges alone, a one-piece keyword alone).
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
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
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
  explicit JobIndex(uint64_t epoch);

  struct LoggedChange {
    uint64_t seq;
    std::shared_ptr<const JobRow> before;  // null: created by this change
    std::shared_ptr<const JobRow> after;   // null: deleted by this change
    const std::string& job_id() const {
      return after ? after->job_id : before->job_id;
    }
  };

  // A job's position in the index: its rows_ entry, kept for its lifetime
  // (slots are not reused; a rebuild at start compacts them).
  using Slot = uint32_t;
  // Jobs by slot (a set of slots: ascending).
  using Posting = absl::btree_set<Slot>;

  // Compares slots by their rows' keys under one sort column, ascending
  // (SortLess(..., false)); also against a KeyView (lookups of a position).
  // While *build_keys is set (Build filling the ordering), keys come from it
  // by slot instead of from the rows.
  class SlotLess {
   public:
    using is_transparent = void;
    SlotLess(const std::vector<std::shared_ptr<const JobRow>>* rows,
             const std::vector<KeyView>* const* build_keys, SortField field)
        : rows_(rows), build_keys_(build_keys), field_(field) {}
    bool operator()(Slot a, Slot b) const { return Less(Key(a), Key(b)); }
    bool operator()(Slot a, const KeyView& b) const { return Less(Key(a), b); }
    bool operator()(const KeyView& a, Slot b) const { return Less(a, Key(b)); }
    KeyView Key(Slot s) const;

   private:
    static bool Less(const KeyView& a, const KeyView& b) {
      return SortLess(a, b, /*desc=*/false);
    }
    const std::vector<std::shared_ptr<const JobRow>>* rows_;
    const std::vector<KeyView>* const* build_keys_;
    SortField field_;
  };
  using Ordering = absl::btree_set<Slot, SlotLess>;

  // Where a query's candidates come from.
  struct Candidates;

  // Puts the record's row (or drops it) and returns the row it replaced.
  std::shared_ptr<const JobRow> PutLocked(const internal::JobRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves `slot` from `before`'s place in the orderings and postings to
  // `after`'s (either may be null) and makes rows_[slot] `after`.
  void ReindexLocked(Slot slot, std::shared_ptr<const JobRow> after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The ordering of `field`; null for duration (not kept).
  const Ordering* OrderingOf(SortField field) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Candidates FindCandidates(const JobQuery& query) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Calls `fn` with the slots of `ordering` in `desc` or ascending order,
  // from after `after` (none: the start), until it returns false.
  void Walk(const Ordering& ordering, bool desc,
            const std::optional<KeyView>& after,
            absl::FunctionRef<bool(Slot)> fn) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Whether the job at `slot` matches the query `c` was found for; each
  // candidate slot once.
  bool Accepts(const Candidates& c, Slot slot) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void ForEachCandidate(const Candidates& c,
                        absl::FunctionRef<void(Slot)> fn) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const uint64_t epoch_;
  mutable absl::Mutex mu_;
  // By slot; null once deleted.
  std::vector<std::shared_ptr<const JobRow>> rows_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Slot> slot_of_ ABSL_GUARDED_BY(mu_);
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
  // By SortField (duration's entry unused).
  std::vector<Ordering> orderings_ ABSL_GUARDED_BY(mu_);
  // Each row's key under the ordering Build is filling (SlotLess); null
  // otherwise.
  const std::vector<KeyView>* build_keys_ = nullptr;
  // Filter terms (TermsOf in job_index.cc) and keyword words -> jobs.
  absl::flat_hash_map<std::string, Posting> terms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Posting> words_ ABSL_GUARDED_BY(mu_);
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<LoggedChange> changes_ ABSL_GUARDED_BY(mu_);

  absl::Mutex listeners_mu_;
  uint64_t next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  std::map<uint64_t, std::shared_ptr<Listener>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace trainyard::jobs
