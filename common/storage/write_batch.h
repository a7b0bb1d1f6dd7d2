// -----------------------------------------------------------------------------
// File: common/storage/write_batch.h
// -----------------------------------------------------------------------------
//
// A set of puts and deletes across column families that Db::Write applies
// atomically: after Write returns, either all of them are visible (and in the
// WAL) or none is, also after a crash.
//
//   WriteBatch batch;
//   batch.Put("jobs", job_key, job);
//   batch.Delete("queue", queue_key);
//   RETURN_IF_ERROR(db.Write(batch));

#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"

namespace trainyard::storage {

// Records operations by column family name; names are resolved by Db::Write,
// so a batch is independent of any Db and may be built before the Db exists.
//
// Errors are sticky: the first failure while building (a message that cannot
// be serialized) is kept in status(), later operations are ignored, and
// Db::Write returns that error without writing anything.
//
// Thread-compatible: one batch must not be modified by two threads at once.
class WriteBatch {
 public:
  WriteBatch() = default;
  WriteBatch(WriteBatch&&) = default;
  WriteBatch& operator=(WriteBatch&&) = default;

  // Sets `key` to `value` in column family `cf`.
  void PutRaw(std::string_view cf, std::string_view key,
              std::string_view value);

  // Sets `key` to the serialized `message`. If `message` cannot be
  // serialized (missing required fields), status() becomes kInvalidArgument.
  void Put(std::string_view cf, std::string_view key,
           const google::protobuf::MessageLite& message);

  // Removes `key` (no error if absent).
  void Delete(std::string_view cf, std::string_view key);

  // Removes every key in [start, limit) (no-op if limit <= start). Writes a
  // range tombstone: cheap for large ranges, but prefer Delete for a few keys.
  void DeleteRange(std::string_view cf, std::string_view start,
                   std::string_view limit);

  // Number of operations recorded.
  size_t Count() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

  // The first error met while building, or OK.
  const absl::Status& status() const { return status_; }

  // Removes all operations and resets status().
  void Clear();

 private:
  friend class Db;

  enum class OpType { kPut, kDelete, kDeleteRange };
  struct Op {
    OpType type;
    std::string cf;
    std::string key;    // For kDeleteRange: start.
    std::string value;  // For kDeleteRange: limit.
  };

  void Add(OpType type, std::string_view cf, std::string_view key,
           std::string value);

  std::vector<Op> ops_;
  absl::Status status_;
};

}  // namespace trainyard::storage
