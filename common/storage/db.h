// -----------------------------------------------------------------------------
// File: common/storage/db.h
// -----------------------------------------------------------------------------
//
// Db is the RocksDB database of one service: one directory, one column family
// per kind of record, values as serialized protobuf. It wraps RocksDB with
// absl::Status errors (see rocksdb_status.h), typed protobuf helpers, atomic
// batches (write_batch.h) and range/prefix scans (iterator.h).
//
//   Options options;
//   options.path = flags.data_dir;
//   options.name = "scheduler";
//   options.column_families = {"jobs", "queue"};
//   options.sync_writes = flags.sync_writes;
//   options.shared_memory = process_memory;
//   ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(options));
//   RETURN_IF_ERROR(db->Put("jobs", job_id, job));
//
// Durability: every write is in the WAL when it returns, so it survives a
// crash of the process; with Options::sync_writes it is also fsynced and
// survives a crash of the machine.
//
// Thread safety: every method may be called concurrently from any thread,
// including Close (operations racing with Close either complete before it or
// fail with kFailedPrecondition).
//
// Errors common to all operations: kFailedPrecondition after Close;
// kInvalidArgument for a column family that is not open (deliberately not
// kNotFound, which always means "no such key"); other codes as mapped by
// FromRocksDbStatus.
//
// Storage faults: a full disk or a free-space reserve not met
// (Options::min_free_bytes) fails writes with kResourceExhausted, an I/O error
// with kUnavailable; both carry an ErrorInfo reason (STORAGE_FULL,
// STORAGE_ERROR) and are counted (write_faults()). RocksDB stops all writes
// after a failed WAL or flush write, while reads keep working. The next write
// (or CheckWritable) tries to resume them, so writes resume by themselves
// once the disk works again:
//   - after a failed flush (a full or failing disk under the SST files),
//     DB::Resume resumes them in place;
//   - after a failed WAL append, which RocksDB 7.8 cannot resume in place
//     (Resume refuses the fatal error of an EIO; after an ENOSPC it succeeds
//     but the WAL writer keeps its error), the database is reopened in place:
//     closed and opened again with the same options and column families,
//     which replays the WAL up to the failed record (every acknowledged write
//     is kept). A reopen is tried only once a probe file in the database
//     directory can be written and synced and the free-space reserve is met;
//     until then the old database keeps serving reads. After the reopen a
//     WAL-only record is appended (and synced): writes count as resumed only
//     if it succeeds. Operations that arrive during the swap wait for it
//     (35-70 ms for a small database on this VM). Iterators
//     point into the database they were created on, so a reopen waits until
//     no Iterator exists: writes keep answering STORAGE_ERROR or
//     STORAGE_FULL (saying so) until they are destroyed. Should the open
//     itself fail, every operation answers UNAVAILABLE STORAGE_ERROR (reads
//     included) and the next write or CheckWritable tries again.
// The free-space reserve keeps a filling disk from getting there.

#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/storage/iterator.h"
#include "common/storage/options.h"
#include "common/storage/write_batch.h"
#include "google/protobuf/message_lite.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"

namespace trainyard::storage {

class Db {
 public:
  // Opens (or creates) the database described by `options`. The column
  // families on disk are listed first and all of them are opened, including
  // ones not in options.column_families; declared ones that are missing are
  // created.
  //
  // Errors: kInvalidArgument for bad options (empty path or name, empty or
  // duplicate column family names, half-set shared_memory);
  // kFailedPrecondition if `path` exists and is not a directory; kNotFound if
  // there is no database and create_if_missing is false; kUnavailable if
  // another Db or process holds the database open; kDataLoss if it is corrupt.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const Options& options);

  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Closes the database if Close() has not been called.
  // REQUIRES: no Iterator of this Db exists (the process aborts otherwise,
  // since those iterators would point into freed memory).
  ~Db();

  // Stops background work (waiting for running compactions and flushes),
  // releases the column families and closes the database, releasing the
  // directory lock. Nothing extra is flushed: the WAL already holds every
  // acknowledged write. Every later call returns kFailedPrecondition.
  //
  // Returns kFailedPrecondition, leaving the database open, while Iterators
  // of it exist; otherwise the database is closed even if an error (from
  // RocksDB's own close) is returned.
  absl::Status Close();

  // Stores the serialized `message` under `key` in column family `cf`.
  // kInvalidArgument if `message` cannot be serialized.
  absl::Status Put(std::string_view cf, std::string_view key,
                   const google::protobuf::MessageLite& message);
  absl::Status PutRaw(std::string_view cf, std::string_view key,
                      std::string_view value);

  // Reads `key` of `cf` into `*message` (cleared first). kNotFound, naming
  // `cf` and `key`, if absent; kDataLoss if the stored bytes do not parse as
  // `message`'s type.
  absl::Status Get(std::string_view cf, std::string_view key,
                   google::protobuf::MessageLite* message) const;
  absl::StatusOr<std::string> GetRaw(std::string_view cf,
                                     std::string_view key) const;
  // The values of `keys` of `cf` (nullopt where absent), read in one batched
  // lookup: cheaper than a Get per key, as each SST file's filter and index
  // blocks are fetched once for all the keys.
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGetRaw(
      std::string_view cf, const std::vector<std::string>& keys) const;

  // Removes `key` from `cf`; OK if it was absent.
  absl::Status Delete(std::string_view cf, std::string_view key);

  // Applies all operations of `batch` atomically: all or none are visible,
  // in memory and after a crash. If any column family of the batch is not
  // open, or batch.status() is an error, nothing is written and that error
  // is returned. An empty batch is a no-op.
  //
  // Group commit: concurrent callers of Write/Put/Delete queue in RocksDB's
  // write thread; the first becomes the leader, appends the batches of all
  // queued writers to the WAL in one write and, if sync_writes is set,
  // covers them with one fsync. Under steady load each fsync covers about
  // half the writing threads (writers alternate between the group being
  // synced and the one queueing behind it). Grouping needs concurrency: a
  // single writing thread, or callers that hold one lock of their own across
  // Write, get one fsync per write. Figures: tools/bench/storage_sync_bench.
  absl::Status Write(const WriteBatch& batch);

  // Returns an iterator over `range` of `cf` in `direction`, positioned on
  // its first key. The iterator must be destroyed before this Db is closed;
  // while it exists, the database is not reopened after a WAL fault (see
  // "Storage faults" above), so hold iterators only for one request.
  absl::StatusOr<std::unique_ptr<Iterator>> NewIterator(
      std::string_view cf, const KeyRange& range, Direction direction) const;

  // Calls `visitor(key, value)` for each key of `range` of `cf` in
  // `direction`, over a consistent snapshot, until it returns false or the
  // range ends. The views are valid only during the call. The visitor may
  // call other methods of this Db. Returns the iteration error, if any.
  absl::Status Scan(
      std::string_view cf, const KeyRange& range, Direction direction,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)>
          visitor) const;

  // OK if a write may go ahead now: the database is open, the free-space
  // reserve is met and writes are not stopped by a storage fault (if they
  // were, resuming them, or reopening the database, is tried first).
  // Otherwise the error a write would get, with its reason. For readiness
  // checks; cheap (a statvfs) unless writes are stopped.
  absl::Status CheckWritable();

  // Writes refused or failed by storage faults since Open, by reason.
  struct WriteFaults {
    uint64_t storage_full = 0;   // full disk or free-space reserve not met
    uint64_t storage_error = 0;  // any other I/O error
  };
  WriteFaults write_faults() const;

  // Times the database was reopened in place after a storage fault since
  // Open (see "Storage faults" above).
  uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }

  // Names of all open column families (declared, found on disk, and
  // "default"), sorted. Empty after Close.
  std::vector<std::string> ColumnFamilies() const;

  // The value of a database-wide integer property such as
  // "rocksdb.is-write-stopped" (rocksdb::DB::Properties), read once.
  // kInvalidArgument for an unknown or non-integer property.
  absl::StatusOr<uint64_t> GetIntProperty(std::string_view property) const;

  // The sum over all column families of a per-family integer property such
  // as "rocksdb.total-sst-files-size". kInvalidArgument as above.
  absl::StatusOr<uint64_t> GetAggregatedIntProperty(
      std::string_view property) const;

  // Writes a consistent copy of the whole database to `dir`: every column
  // family as of one moment, holding every write acknowledged before the call
  // (memtables are flushed first; live WAL files are copied). SST files are
  // hard-linked when `dir` is on the database's file system, else copied.
  // The copy is assembled under "<dir>.tmp", synced, then renamed, so `dir`
  // either is complete or does not exist; it opens with Open() as a database.
  // Returns the sequence number of the last write the copy holds.
  //
  // REQUIRES: the parent of `dir` exists. kAlreadyExists if `dir` exists.
  absl::StatusOr<uint64_t> CreateCheckpoint(const std::string& dir) const;

  // RocksDB's statistics of this database (tickers and histograms). Remains
  // readable after Close.
  const rocksdb::Statistics& statistics() const { return *statistics_; }

  // The memory this database draws from (possibly shared with others).
  const SharedMemory& memory() const { return memory_; }

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  bool sync_writes() const { return sync_writes_; }

 private:
  using CfMap =
      std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>>;

  Db(const Options& options, SharedMemory memory,
     std::shared_ptr<rocksdb::Statistics> statistics,
     rocksdb::DBOptions db_options, rocksdb::ColumnFamilyOptions cf_options,
     std::set<std::string> cf_names,
     std::shared_ptr<std::atomic<bool>> wal_failed);

  // Opens the RocksDB database at path_ with the column families cf_names_
  // into db_ and column_families_.
  // REQUIRES: mu_ held exclusively; db_ null.
  absl::Status OpenRocksDb(std::string_view operation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Releases the column families and closes db_ (null afterwards).
  // REQUIRES: mu_ held exclusively; db_ open; no live iterators.
  rocksdb::Status CloseRocksDb() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Returns the open DB and the handle of `cf`, or the error to return from
  // `operation`.
  // REQUIRES: mu_ held (shared or exclusive).
  absl::StatusOr<rocksdb::ColumnFamilyHandle*> FindCf(
      std::string_view operation, std::string_view cf) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // kFailedPrecondition after Close; UNAVAILABLE STORAGE_ERROR while a
  // reopen after a storage fault has not managed to open the database.
  absl::Status CheckOpen(std::string_view operation) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // NewIterator, with errors naming `operation`.
  absl::StatusOr<std::unique_ptr<Iterator>> NewIteratorFor(
      std::string_view operation, std::string_view cf, const KeyRange& range,
      Direction direction) const;

  rocksdb::WriteOptions MakeWriteOptions() const;

  // Returns OK if a write for `operation` may go ahead: the free-space
  // reserve met and writes not stopped (else they are resumed, or the
  // database reopened, first). Cheap unless writes are stopped.
  // REQUIRES: mu_ not held (a reopen takes it exclusively).
  absl::Status BeginWrite(std::string_view operation) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts a storage fault in `status` and remembers that writes are stopped;
  // returns `status`.
  absl::Status EndWrite(absl::Status status);
  absl::Status CheckFreeSpace(std::string_view operation);
  // DB::Resume after a storage fault other than a failed WAL append.
  // REQUIRES: mu_ held (shared).
  absl::Status Resume(std::string_view operation)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Closes and opens the database again after a failed WAL append, which
  // Resume cannot clear, once the disk takes writes again and no iterator
  // exists; then checks that a WAL append works.
  absl::Status Reopen(std::string_view operation) ABSL_LOCKS_EXCLUDED(mu_);
  // Writes, syncs and removes a small file in the database directory.
  absl::Status ProbeDisk(std::string_view operation);
  // The error that stopped writes, counted as a fault of its reason, with
  // `detail` appended to its message when not empty.
  absl::Status StoppedError(std::string_view detail);
  void CountFault(const absl::Status& status);

  const std::string name_;
  const std::string path_;
  const bool sync_writes_;
  const uint64_t min_free_bytes_;
  rocksdb::Env* const env_;
  const SharedMemory memory_;
  const std::shared_ptr<rocksdb::Statistics> statistics_;
  // What Open used, for a reopen.
  const rocksdb::DBOptions db_options_;
  const rocksdb::ColumnFamilyOptions cf_options_;
  // Every column family: declared, found on disk, and "default".
  const std::set<std::string> cf_names_;

  std::atomic<uint64_t> storage_full_faults_{0};
  std::atomic<uint64_t> storage_error_faults_{0};
  std::atomic<uint64_t> reopens_{0};
  // Set by a write that failed on a storage fault: RocksDB stops writes until
  // resumed. Read without a lock on every write; stop_error_ says why.
  std::atomic<bool> writes_stopped_{false};
  // Set by RocksDB's event listener when a WAL append failed, which
  // DB::Resume cannot clear: the next write or CheckWritable reopens the
  // database instead. Shared with the listener.
  const std::shared_ptr<std::atomic<bool>> reopen_needed_;
  absl::Mutex stop_mu_;
  absl::Status stop_error_ ABSL_GUARDED_BY(stop_mu_);

  // Iterators (including those inside a running Scan) not yet destroyed.
  mutable std::atomic<int> live_iterators_{0};

  // Held shared by every operation while it uses db_ and the handles, and
  // exclusively by Close and by a reopen.
  mutable absl::Mutex mu_;
  // Null once closed, or while a reopen has not managed to open it.
  std::unique_ptr<rocksdb::DB> db_ ABSL_GUARDED_BY(mu_);
  CfMap column_families_ ABSL_GUARDED_BY(mu_);  // Owned handles.
  bool closed_ ABSL_GUARDED_BY(mu_) = false;    // Close was called.
  // Why the last reopen could not open the database (db_ null, not closed).
  absl::Status reopen_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::storage
