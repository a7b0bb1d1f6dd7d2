// -----------------------------------------------------------------------------
// File: common/storage/iterator.h
// -----------------------------------------------------------------------------
//
// Key ranges and an iterator over one range of one column family, forward or
// reverse. Obtain an Iterator from Db::NewIterator, or use Db::Scan, which
// drives one for you.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Iterator> it,
//                    db.NewIterator("chunks", KeyRange::Prefix(series_key),
//                                   Direction::kReverse));
//   for (; it->Valid(); it->Next()) { ... it->key() ... it->value() ... }
//   RETURN_IF_ERROR(it->status());

#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/slice.h"

namespace trainyard::storage {

// The half-open key range [start, limit). A missing `limit` means "to the end
// of the column family"; an empty `start` means "from its beginning".
struct KeyRange {
  std::string start;
  std::optional<std::string> limit;

  // Every key of the column family.
  static KeyRange All();
  // Keys starting with `prefix`: [prefix, PrefixSuccessor(prefix)).
  static KeyRange Prefix(std::string_view prefix);
  // [start, limit). Empty when limit <= start.
  static KeyRange Between(std::string_view start, std::string_view limit);
  // [start, end of column family).
  static KeyRange AtLeast(std::string_view start);

  // True when no key can be in the range (limit <= start).
  bool IsEmpty() const;
};

enum class Direction {
  kForward,  // Ascending keys, from the first key >= start.
  kReverse,  // Descending keys, from the last key < limit.
};

// Iterates over the keys of one KeyRange of one column family, in one
// direction, over a consistent snapshot taken when the iterator is created
// (later writes are not seen).
//
// Ownership: the iterator owns copies of its range bounds (RocksDB requires
// the bound slices to outlive the iterator, traps.md), so the KeyRange given
// to Db::NewIterator may be a temporary. The Db must outlive the iterator, and
// Db::Close refuses to close while iterators exist.
//
// Thread-compatible: one iterator must not be used by two threads at once;
// different iterators may be used concurrently.
class Iterator {
 public:
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  ~Iterator();

  // True while positioned on a key of the range. False at the end of the
  // range or on error; check status() then.
  bool Valid() const;

  // Moves to the next key in the iteration direction.
  // REQUIRES: Valid().
  void Next();

  // Forward iterators: moves to the first key of the range >= `target`
  // (backwards too), on the same snapshot; cheaper than a new iterator, and
  // than many Next() calls to a key far ahead. Valid() is false when there
  // is none. REQUIRES: Direction::kForward; the iterator not in error.
  void Seek(std::string_view target);

  // The current key and value. Valid until the next call to Next() or the
  // iterator's destruction.
  // REQUIRES: Valid().
  std::string_view key() const;
  std::string_view value() const;

  // Parses the current value into `*message` (which is cleared first).
  // Returns kDataLoss naming the column family and key if the bytes are not
  // a valid serialized `message`.
  // REQUIRES: Valid().
  absl::Status ParseValue(google::protobuf::MessageLite* message) const;

  // OK unless iteration stopped on an error (mapped by FromRocksDbStatus).
  absl::Status status() const;

 private:
  friend class Db;

  // Registers itself in `*live_iterators` for its lifetime.
  Iterator(std::string cf, KeyRange range, Direction direction,
           std::atomic<int>* live_iterators);

  // Creates the RocksDB iterator and positions it on the first key.
  // REQUIRES: `db` and `cf` stay valid for the lifetime of this iterator.
  void Start(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf);

  const std::string cf_;
  const KeyRange range_;
  const Direction direction_;
  std::atomic<int>* const live_iterators_;
  // Point into range_; must outlive iter_ (declared before it, so destroyed
  // after it).
  rocksdb::Slice lower_bound_;
  rocksdb::Slice upper_bound_;
  std::unique_ptr<rocksdb::Iterator> iter_;  // Null for an empty range.
};

}  // namespace trainyard::storage
