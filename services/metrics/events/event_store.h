// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/metrics/events/event_store.h
// -----------------------------------------------------------------------------
//
// The event log of every job (R-EVT-01), its queries (R-EVT-02, R-EVT-03) and
// export (R-EVT-05), over RocksDB.
//
// Records (column families, see ColumnFamilies()):
//   events       job | job_seq  -> serialized metrics.v1.Event, raw_json
//                                  included exactly as received
//   event_ids    job | event_id -> job_seq (8 bytes big-endian): the
//                                  idempotency index, dedupe key
//                                  (job_id, webhook-id)
//   event_index  job | job_seq  -> index record (job_index.h): the facts a
//                                  query filters on plus the message, to
//                                  rebuild the in-memory index cheaply
// Keys are storage::KeyBuilder tuples (AddString(job), then AddUint64(job_seq)
// or AddString(event_id)), so one job's events are contiguous in job_seq order.
//
// Writing. The ingest path owns job_seq: it assigns it (from 1, gapless per
// job), stages events into its own WriteBatch together with its other records
// (series points, progress), writes the batch, and only then publishes:
//
//   EventUpdate update;
//   ASSIGN_OR_RETURN(std::vector<std::optional<uint64_t>> stored,
//                    events.FindByEventIds(job_id, event_ids));
//   ... answer the stored ones as duplicates; for each new event:
//   event.set_job_seq(++last_job_seq);  // the job's state knows the last
//   events.Stage(event, batch, &update);
//   RETURN_IF_ERROR(db.Write(batch));
//   events.Publish(update);
//
// Reading. ListEvents scans a compact per-job in-memory index (job_index.h)
// and reads only the page's events from RocksDB. A job's index is built from
// the event_index records on its first query (also after a restart) and then
// kept current by Publish. All indexes together are a JobCache held to
// EventStoreOptions::index_memory_bytes: the least recently queried jobs'
// indexes are dropped first (and rebuilt when queried again); an index in
// use by a query is kept even when it alone is larger. Export reads RocksDB
// directly (one consistent snapshot), evaluating the same compiled selection
// (event_query.h) on each event.
//
// Thread safety: all methods may be called concurrently, with one
// restriction on the writing side: REQUIRES: for each job, the caller
// serializes FindByEventId / Stage / Write / Publish (ingest of a job is one
// sequence); different jobs may ingest concurrently; queries and exports run
// concurrently with ingest and with each other.

#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/cache/job_cache.h"
#include "common/storage/db.h"
#include "common/storage/write_batch.h"
#include "services/metrics/events/event_export.h"
#include "services/metrics/events/event_query.h"
#include "services/metrics/events/job_index.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

struct EventStoreOptions {
  // Bound on the heap memory of all jobs' in-memory indexes together (about
  // 90 bytes per event with ~45-byte messages, tools/bench/events_bench: the
  // default holds ~3M events).
  size_t index_memory_bytes = size_t{256} << 20;

  // With a keyword, ListEvents' total_size and match_count are exact up to
  // this many, then reported as this many with the *_capped flag
  // (metrics.proto: 100,000; a whole-log keyword scan of 100K events stays
  // within the 10 ms event-page goal, tools/bench/events_bench). Without a
  // keyword total_size is always exact.
  int32_t count_cap = 100000;

  // Bytes of file per ExportEvents chunk, at most kMaxExportChunkBytes.
  size_t export_chunk_bytes = kMaxExportChunkBytes;
};

// Where a ListEvents page sequence continues: the job's latest job_seq when
// its first page was served (every page looks at events <= anchor only, so
// events arriving while a client pages never shift pages or change
// total_size) and the last event of the previous page (the next page
// continues after it, oldest first, or before it, newest first).
struct EventCursor {
  uint64_t anchor_job_seq = 0;
  uint64_t last_job_seq = 0;
};

// A validated ListEvents query (grpc/requests.h ParseListEvents).
struct EventListQuery {
  std::string job_id;
  EventSelector selector;
  int32_t page_size = 50;            // >= 1
  std::optional<EventCursor> after;  // nullopt: the first page
};

// A page of ListEvents: the response but its next_page_token, and where the
// next page continues when there is one (grpc/ turns it into the token).
struct EventPage {
  metrics::v1::ListEventsResponse response;
  std::optional<EventCursor> next;
};

// A validated ExportEvents query (grpc/requests.h ParseExportEvents).
struct EventExportQuery {
  std::string job_id;
  EventSelector selector;
  common::v1::ExportFormat format = common::v1::EXPORT_FORMAT_CSV;  // known
};

// Index changes staged with a write batch, applied by EventStore::Publish
// once the batch is durable. Move-only value; thread-compatible.
class EventUpdate {
 public:
  EventUpdate() = default;
  EventUpdate(EventUpdate&&) = default;
  EventUpdate& operator=(EventUpdate&&) = default;

  bool empty() const { return ops_.empty(); }

  // The job_seq of an event staged here with this (job_id, event_id), so an
  // ingest batch can dedupe events repeated within itself (FindByEventId sees
  // only written events).
  std::optional<uint64_t> FindStaged(std::string_view job_id,
                                     std::string_view event_id) const;

 private:
  friend class EventStore;

  struct Op {
    bool delete_job = false;
    std::string job_id;
    std::string event_id;
    EventFacts facts;
    std::string folded_message;
  };
  std::vector<Op> ops_;
};

class EventStore {
 public:
  static constexpr std::string_view kEventsCf = "events";
  static constexpr std::string_view kEventIdsCf = "event_ids";
  static constexpr std::string_view kEventIndexCf = "event_index";

  // The column families the Db must be opened with (storage::Options).
  static std::vector<std::string> ColumnFamilies();

  // `db` (opened with ColumnFamilies()) must outlive the store.
  explicit EventStore(storage::Db& db, EventStoreOptions options = {});

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // ---- Writing ---------------------------------------------------------

  // The job_seq of the stored event with this event id (webhook-id), or
  // nullopt if none is stored: the dedupe check of R-X-01.
  absl::StatusOr<std::optional<uint64_t>> FindByEventId(
      std::string_view job_id, std::string_view event_id) const;
  // The same for several event ids of one job, in one batched lookup (a
  // call of IngestEvents checks all its events at once).
  absl::StatusOr<std::vector<std::optional<uint64_t>>> FindByEventIds(
      std::string_view job_id,
      const std::vector<std::string_view>& event_ids) const;

  // The job's highest stored job_seq; 0 for a job without events (read from
  // RocksDB, not the index).
  absl::StatusOr<uint64_t> LatestJobSeq(std::string_view job_id) const;

  // Adds `event` (its record, event id and index record) to `batch`, and the
  // matching index change to `*staged`. Queries do not see it until the
  // batch is written and `*staged` published.
  // REQUIRES: event.job_id() and event.event_id() non-empty; event.job_seq()
  // is the job's next job_seq (LatestJobSeq + 1, counting events staged
  // before in the same batch); the event id is not stored yet.
  void Stage(const metrics::v1::Event& event, storage::WriteBatch& batch,
             EventUpdate* staged);

  // Adds the deletion of all of the job's records to `batch` and the drop of
  // its index to `*staged`. Returns the number of events deleted (0 for an
  // unknown or already purged job). Idempotent.
  absl::StatusOr<int64_t> DeleteJob(std::string_view job_id,
                                    storage::WriteBatch& batch,
                                    EventUpdate* staged);

  // Applies staged changes to the in-memory indexes.
  // REQUIRES: the batch they were staged with was written successfully.
  // Jobs whose index is not in memory are skipped (it is built from RocksDB
  // when first queried). An event that does not directly follow the indexed
  // ones (a missed Publish) drops the job's index, to be rebuilt.
  void Publish(const EventUpdate& update);

  // ---- Reading ---------------------------------------------------------

  // One event with its full JSON payload (R-EVT-01). NOT_FOUND, reason
  // JOB_NOT_FOUND when the job has no events, EVENT_NOT_FOUND when it has
  // but not this one.
  absl::StatusOr<metrics::v1::Event> GetEvent(std::string_view job_id,
                                              uint64_t job_seq) const;

  // A page of the job's log (R-EVT-01, R-EVT-02, R-EVT-03), as documented on
  // metrics.v1.ListEventsRequest/Response and in event_query.h: the events
  // `query.selector` selects, in its order, `query.page_size` of them after
  // `query.after`; total_size exact without a keyword, and with one exact up
  // to count_cap like match_count. Errors: NOT_FOUND (reason JOB_NOT_FOUND)
  // for a job without events; DATA_LOSS for corrupt records.
  absl::StatusOr<EventPage> List(const EventListQuery& query);

  // Streams the selected events of the job as one file (R-EVT-05) to
  // `sink`, in chunks (event_export.h: formats, chunking). The selection is
  // List's (EventSelector); the export is one consistent snapshot of the log
  // taken when the call starts; memory use does not depend on the job's
  // size. `now` names the file. Returns the sink's first error, if any, after
  // which nothing more is sent. NOT_FOUND (reason JOB_NOT_FOUND) for a job
  // without events, and then no chunk is sent.
  // Note: the snapshot is held until the call returns, including while the
  // sink blocks on a slow client.
  absl::Status Export(
      const EventExportQuery& query, absl::Time now,
      absl::FunctionRef<absl::Status(const metrics::v1::ExportEventsResponse&)>
          sink);

  // ---- Internal reads --------------------------------------------------
  // Typed reads for metrics' own callers (state replay, live deltas,
  // snapshots): no query language, no page tokens, no request protos.

  // Calls `visit(event)` for each event of the job with
  // after < job_seq <= until, oldest first, over one consistent snapshot,
  // until `visit` returns false. A job without such events visits nothing.
  // DATA_LOSS for a corrupt record.
  absl::Status ReadRange(
      std::string_view job_id, uint64_t after, uint64_t until,
      absl::FunctionRef<bool(const metrics::v1::Event&)> visit) const;

  // The newest `limit` events of the job with job_seq <= until whose type is
  // one of `types` (any type when empty), oldest first. Picked from the
  // in-memory index, so rare types cost no scan of the log. Empty for a job
  // without events.
  absl::StatusOr<std::vector<metrics::v1::Event>> ReadLatest(
      std::string_view job_id, uint64_t until,
      absl::Span<const common::v1::EventType> types, int limit);

  // ---- Introspection ---------------------------------------------------

  struct IndexStats {
    size_t jobs = 0;    // indexes in memory
    size_t events = 0;  // events in them
    size_t bytes = 0;   // memory charged against index_memory_bytes
  };
  IndexStats GetIndexStats() const;

 private:
  // One job's index, an entry of the cache.
  struct JobSlot {
    // Held exclusively while the index is built and by Publish; shared by
    // queries.
    absl::Mutex mu;
    // False until the index is read from RocksDB (Publish skips the job
    // meanwhile: the build reads what it wrote).
    bool built ABSL_GUARDED_BY(mu) = false;
    JobIndex index ABSL_GUARDED_BY(mu);
    // Not OK when building the index failed (the slot is then dropped).
    absl::Status load_status ABSL_GUARDED_BY(mu);
    // Events in `index`, for GetIndexStats without the lock.
    std::atomic<size_t> events{0};
  };
  using SlotHandle = cache::JobCache<JobSlot>::Handle;

  // Returns the job's slot, pinned, building its index first if it is not
  // in memory.
  absl::StatusOr<SlotHandle> AcquireSlot(std::string_view job_id);
  // Reads the job's index records into `*index`.
  absl::Status BuildIndex(std::string_view job_id, JobIndex* index) const;

  storage::Db& db_;
  const EventStoreOptions options_;

  cache::JobCache<JobSlot> slots_;
};

}  // namespace trainyard::metrics
