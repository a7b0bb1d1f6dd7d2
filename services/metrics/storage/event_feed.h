// Copyright 2026 Trainyard authors.
//
// The cross-job order of stored events (WatchEvents, R-X-02): CF event_feed
// maps a global sequence number (big-endian) to (job id, job_seq), written
// in the batch of the events themselves. Batches commit concurrently, so a
// reader may only read up to the watermark: the highest sequence below which
// every reserved number is committed (or abandoned by a failed write, which
// leaves a harmless hole).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"

namespace trainyard::metrics {

class EventFeed {
 public:
  static std::vector<std::string> ColumnFamilies() { return {"event_feed"}; }

  // Reads the last sequence on disk. `db` must outlive the feed.
  static absl::StatusOr<std::unique_ptr<EventFeed>> Open(storage::Db& db);

  // Reserves sequence numbers for `entries` (job id, job_seq) in order and
  // stages them into `batch`. Returns the first; call Done(first) after the
  // write, whether it succeeded or not.
  uint64_t Stage(const std::vector<std::pair<std::string, uint64_t>>& entries,
                 storage::WriteBatch& batch);
  void Done(uint64_t first);

  // Every sequence <= this is settled (readable or a hole).
  uint64_t Watermark() const;

  // Calls visit(seq, job_id, job_seq) for (after, until] in order, at most
  // `limit` entries; stops early when visit returns false.
  absl::Status Read(
      uint64_t after, uint64_t until, int limit,
      absl::FunctionRef<bool(uint64_t, std::string_view, uint64_t)> visit)
      const;

 private:
  explicit EventFeed(storage::Db& db, uint64_t last)
      : db_(db), next_(last + 1) {}

  storage::Db& db_;
  mutable absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::metrics
