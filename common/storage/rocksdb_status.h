// -----------------------------------------------------------------------------
// File: common/storage/rocksdb_status.h
// -----------------------------------------------------------------------------
//
// The one place where a rocksdb::Status becomes an absl::Status. Every error
// leaving the storage module goes through FromRocksDbStatus, so callers see
// canonical codes and messages that name the operation, column family and key.
//
// Code mapping (most specific first):
//
//   RocksDB                                   absl
//   OK                                        kOk
//   NotFound                                  kNotFound
//   Corruption                                kDataLoss
//   InvalidArgument                           kInvalidArgument
//   NotSupported                              kUnimplemented
//   IOError, subcode NoSpace / SpaceLimit     kResourceExhausted  STORAGE_FULL
//   IOError (any other, any severity)         kUnavailable        STORAGE_ERROR
//   Busy, TimedOut, TryAgain, Incomplete      kUnavailable
//   ShutdownInProgress                        kUnavailable
//   Aborted, subcode MemoryLimit / LockLimit  kResourceExhausted
//   Aborted (other), Expired                  kAborted
//   CompactionTooLarge                        kResourceExhausted
//   ColumnFamilyDropped                       kFailedPrecondition
//   MergeInProgress, anything else            kInternal
//
// I/O errors carry a google.rpc.ErrorInfo reason (common/status/reasons.h), so
// clients and webhook senders can tell a full disk from a failing one.
//
// Why IOError is kUnavailable: the request itself was fine, the disk under the
// database was not. RocksDB stops writes after a WAL or flush I/O error; Db
// resumes them (DB::Resume) on the next write once the disk works again, and
// RocksDB recovers by itself from a full disk once space is freed, so "retry
// later, possibly elsewhere" is the honest answer to a client, also for
// errors RocksDB marks fatal (they stop writes until a Resume or a restart,
// never the request's fault). Another process holding the database's LOCK
// file is also an IOError and is transient in the same sense. kInternal is
// kept for states our code should never reach; kDataLoss only for corruption.
//
// Thread-safe: pure functions.

#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace trainyard::storage {

// Returns the canonical code for `status` (table above).
absl::StatusCode ToStatusCode(const rocksdb::Status& status);

// Converts `status` to an absl::Status with the code of ToStatusCode and the
// message "<operation> cf=<cf> key=<printable key>: <rocksdb message>"; the cf
// and key parts are left out when empty. Returns OkStatus() for an OK status.
absl::Status FromRocksDbStatus(const rocksdb::Status& status,
                               std::string_view operation,
                               std::string_view cf = {},
                               std::string_view key = {});

}  // namespace trainyard::storage
