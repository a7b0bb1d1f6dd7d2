#include "common/storage/iterator.h"

#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/storage/keys.h"
#include "common/storage/rocksdb_status.h"
#include "rocksdb/options.h"

namespace trainyard::storage {

KeyRange KeyRange::All() { return KeyRange{}; }

KeyRange KeyRange::Prefix(std::string_view prefix) {
  return KeyRange{std::string(prefix), PrefixSuccessor(prefix)};
}

KeyRange KeyRange::Between(std::string_view start, std::string_view limit) {
  return KeyRange{std::string(start), std::string(limit)};
}

KeyRange KeyRange::AtLeast(std::string_view start) {
  return KeyRange{std::string(start), std::nullopt};
}

bool KeyRange::IsEmpty() const { return limit.has_value() && *limit <= start; }

Iterator::Iterator(std::string cf, KeyRange range, Direction direction,
                   std::atomic<int>* live_iterators)
    : cf_(std::move(cf)),
      range_(std::move(range)),
      direction_(direction),
      live_iterators_(live_iterators) {
  live_iterators_->fetch_add(1, std::memory_order_relaxed);
}

Iterator::~Iterator() {
  iter_.reset();  // Before the Db may be closed.
  live_iterators_->fetch_sub(1, std::memory_order_release);
}

void Iterator::Start(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
  if (range_.IsEmpty()) return;
  rocksdb::ReadOptions read_options;
  if (!range_.start.empty()) {
    lower_bound_ = rocksdb::Slice(range_.start);
    read_options.iterate_lower_bound = &lower_bound_;
  }
  if (range_.limit.has_value()) {
    upper_bound_ = rocksdb::Slice(*range_.limit);
    read_options.iterate_upper_bound = &upper_bound_;
  }
  iter_.reset(db->NewIterator(read_options, cf));
  // With bounds set, SeekToFirst seeks to the lower bound and SeekToLast to
  // the last key before the upper bound.
  if (direction_ == Direction::kForward) {
    iter_->SeekToFirst();
  } else {
    iter_->SeekToLast();
  }
}

bool Iterator::Valid() const { return iter_ != nullptr && iter_->Valid(); }

void Iterator::Next() {
  if (direction_ == Direction::kForward) {
    iter_->Next();
  } else {
    iter_->Prev();
  }
}

void Iterator::Seek(std::string_view target) {
  if (iter_ == nullptr) return;  // empty range
  // Below the lower bound, RocksDB's Seek would not clamp: start there.
  if (target < std::string_view(range_.start)) target = range_.start;
  iter_->Seek(rocksdb::Slice(target.data(), target.size()));
}

std::string_view Iterator::key() const {
  rocksdb::Slice k = iter_->key();
  return std::string_view(k.data(), k.size());
}

std::string_view Iterator::value() const {
  rocksdb::Slice v = iter_->value();
  return std::string_view(v.data(), v.size());
}

absl::Status Iterator::ParseValue(
    google::protobuf::MessageLite* message) const {
  std::string_view v = value();
  if (v.size() > static_cast<size_t>(INT_MAX) ||
      !message->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
    return absl::DataLossError(
        absl::StrCat("Iterate cf=", cf_, " key=\"", PrintableKey(key()),
                     "\": value is not a valid ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

absl::Status Iterator::status() const {
  if (iter_ == nullptr) return absl::OkStatus();
  return FromRocksDbStatus(iter_->status(), "Iterate", cf_);
}

}  // namespace trainyard::storage
