// -----------------------------------------------------------------------------
// File: common/storage/options.h
// -----------------------------------------------------------------------------
//
// Options for Db::Open, and the memory budget that the databases and column
// families of one process share.
//
// Memory: RocksDB's defaults give every column family two 64 MiB memtables and
// every database its own 32 MiB block cache, so resident memory grows with the
// number of column families and services (traps.md). Every Db therefore uses
// a SharedMemory: one LRU block cache plus one WriteBufferManager whose
// memtable memory is charged to that cache, so the cache capacity bounds
// blocks + memtables (+ index and filter blocks, which are cached too) of all
// databases that share it. Pass one SharedMemory to every Db of a process; if
// none is given, Open creates a private one from the sizes in Options.

#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/cache.h"
#include "rocksdb/compression_type.h"
#include "rocksdb/env.h"
#include "rocksdb/write_buffer_manager.h"

namespace trainyard::storage {

// A block cache and a write buffer manager charged to it. Copyable handle;
// shared by every Db it is given to and kept alive by them. Thread-safe.
struct SharedMemory {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffer_manager;
};

// Creates a SharedMemory whose block cache holds `total_bytes` (blocks and
// memtables together) and whose memtables are flushed once they hold about
// `memtable_bytes`. Returns kInvalidArgument unless
// 0 < memtable_bytes < total_bytes.
absl::StatusOr<SharedMemory> NewSharedMemory(size_t total_bytes,
                                             size_t memtable_bytes);

// Returns the compression used for SST files: LZ4 if this RocksDB build
// supports it (Debian 12's does), else Snappy, else none.
rocksdb::CompressionType ChooseCompression();

struct Options {
  // Directory of the database. Created (one level, not parents) when missing
  // and `create_if_missing` is set. Required.
  std::string path;

  // Short stable name of the database, e.g. "scheduler"; used as the `db`
  // label of exported metrics and in error messages. Required.
  std::string name;

  // Column families the service uses. "default" is always opened and need
  // not be listed. Families found on disk but not listed are opened too and
  // kept (never dropped); listed families missing on disk are created. Names
  // must be non-empty and unique. All families use the bytewise comparator.
  std::vector<std::string> column_families;

  // Create the database when `path` holds none. When false and there is no
  // database, Open returns kNotFound.
  bool create_if_missing = true;

  // Every write is appended to the WAL before it is acknowledged (the WAL is
  // never disabled or manually flushed), which survives a process crash.
  // When true, writes are also fsynced before they return, which survives a
  // machine crash. Concurrent writers are group-committed by RocksDB's write
  // thread: one WAL write and one fsync cover every writer queued behind the
  // leader (see Db::Write).
  bool sync_writes = false;

  // Memory shared with other databases of the process. Either both members
  // are set or neither; when neither, a private SharedMemory is created from
  // `block_cache_bytes` and `memtable_bytes`.
  SharedMemory shared_memory;
  size_t block_cache_bytes = size_t{64} << 20;
  size_t memtable_bytes = size_t{32} << 20;

  // Size of one memtable of one column family before it is switched and
  // flushed (RocksDB's default is 64 MiB).
  size_t write_buffer_size = size_t{16} << 20;

  // Total WAL size after which the column families holding the oldest WAL
  // data are flushed so it can be deleted. Bounds disk use and recovery time
  // when some column families are rarely written.
  uint64_t max_total_wal_size = uint64_t{128} << 20;

  // Free-space reserve: writes are refused with kResourceExhausted (reason
  // STORAGE_FULL) while the file system holding `path` has fewer free bytes,
  // so the database answers before the disk is completely full (when
  // RocksDB would stop every write, flush and compaction until space is
  // freed). Reads are never refused. 0 turns the check off.
  uint64_t min_free_bytes = 0;

  // File system and threads used by RocksDB; nullptr means
  // rocksdb::Env::Default(). Not owned: must outlive the Db. Tests inject
  // faults through it.
  rocksdb::Env* env = nullptr;
};

}  // namespace trainyard::storage
