// Copyright 2026 Trainyard authors.
//
// Named backups of one service's database: consistent RocksDB checkpoints
// written as <root>/<name>, each an openable database directory. Restoring is
// starting the service with --data_dir pointing at a copy of one (see
// deploy/README.md, "Backups and restore").
//
//   Checkpointer checkpointer(db, "/var/lib/trainyard/checkpoints/metrics");
//   ASSIGN_OR_RETURN(CheckpointInfo info, checkpointer.Create("nightly-1"));
//
// Thread-safe: checkpoints are taken one at a time (each flushes memtables).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/storage/db.h"

namespace trainyard::storage {

// Checks that `name` can only name a directory directly under the root: 1 to
// 100 characters of [A-Za-z0-9._-], starting with a letter or digit (so never
// "." or "..", never a path), not ending in ".tmp" (RocksDB's staging suffix).
// kInvalidArgument saying what is wrong.
absl::Status ValidateCheckpointName(std::string_view name);

struct CheckpointInfo {
  std::string name;
  std::string path;       // <root>/<name>
  uint64_t sequence = 0;  // last write the checkpoint holds (RocksDB seqno)
};

class Checkpointer {
 public:
  // `db` must outlive this. An empty `root` disables checkpoints.
  Checkpointer(const Db& db, std::string root);

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  bool enabled() const { return !root_.empty(); }
  const std::string& root() const { return root_; }

  // Writes checkpoint `name` (Db::CreateCheckpoint), creating the root
  // directory if needed. Errors: kFailedPrecondition when disabled;
  // kInvalidArgument for a bad name (ValidateCheckpointName); kAlreadyExists
  // when <root>/<name> exists; kInternal when the root cannot be created;
  // storage errors of Db::CreateCheckpoint.
  absl::StatusOr<CheckpointInfo> Create(std::string_view name);

 private:
  const Db& db_;
  const std::string root_;
  absl::Mutex mu_;  // held for a whole checkpoint
};

}  // namespace trainyard::storage
