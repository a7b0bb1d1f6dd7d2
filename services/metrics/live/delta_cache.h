// Copyright 2026 Trainyard authors.
//
// Messages shared by the subscribers of a job (SubscribeJob fan-out). A Delta
// depends only on the job, the job_seq the subscriber stands at, and the
// options that shape it (DeltaOptionsKey); a Snapshot's costly parts only on
// the job, its job_seq and the options (SnapshotOptionsKey). Subscribers
// that agree on all three get the same message, built once.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/strings/absl_view.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

struct SharedDelta {
  // Everything after the from_seq it is cached under, up to delta.job_seq().
  v1::JobDelta delta;
  // Curve points in `delta` (subscribers count them toward a new Snapshot).
  int64_t points = 0;
};

// R-X-06, for a delta whose points were gathered before the job resumed at
// `step`: records the rewind in `delta` (the deepest one when there are
// several), and drops the points of `append` past the step, returning how
// many.
void RecordRewind(int64_t step, v1::JobDelta* delta);
int64_t DropPointsPast(int64_t step, v1::SeriesAppend* append);

// `*into` followed by `next` as one Delta (what a client applying both in
// turn would hold): points and events appended, the newer progress, metrics
// and stages, and a rewind applied to the points before it.
void AppendDelta(const SharedDelta& next, SharedDelta* into);

// What, of a SubscribeJobRequest, shapes its Deltas: the curve series (after
// defaults), include_events and the event types.
std::string DeltaOptionsKey(const v1::SubscribeJobRequest& request);

// What, of a SubscribeJobRequest, shapes its Snapshots: the curve options,
// include_events, the event query and recent_events.
std::string SnapshotOptionsKey(const v1::SubscribeJobRequest& request);

// What a SharedCache keeps, and what an entry costs.
inline bool Shareable(const SharedDelta& d, uint64_t from_seq) {
  return d.delta.job_seq() > from_seq;  // Holds something after from_seq.
}
inline size_t CachedBytes(const SharedDelta& d) {
  return d.delta.ByteSizeLong();
}
inline bool Shareable(const v1::JobSnapshot&, uint64_t) { return true; }
inline size_t CachedBytes(const v1::JobSnapshot& s) { return s.ByteSizeLong(); }

// Immutable messages shared by the subscribers of a job, keyed by the job,
// an options key and a job_seq: Deltas (after that seq) and Snapshots (as of
// that seq). A small LRU bounded by entries and by serialized size;
// thread-safe.
template <typename T>
class SharedCache {
 public:
  explicit SharedCache(size_t capacity = 512,
                       size_t max_bytes = size_t{64} << 20)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The entry for (job, options_key, seq), or null.
  std::shared_ptr<const T> Find(std::string_view job_id,
                                std::string_view options_key, uint64_t seq) {
    std::string key = Key(job_id, options_key, seq);
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }
  // The job's generation: read it before reading the state an entry is
  // built from, and pass it to Put.
  uint64_t Generation(std::string_view job_id) {
    absl::MutexLock lock(&mu_);
    auto it = generations_.find(ToAbsl(job_id));
    return it == generations_.end() ? 0 : it->second;
  }
  // Keeps `value` unless it is not Shareable (an empty delta), or the job
  // was purged (Forget) since `generation` was read. The first of two built
  // at once stays.
  void Put(std::string_view job_id, std::string_view options_key, uint64_t seq,
           std::shared_ptr<const T> value, uint64_t generation) {
    if (!Shareable(*value, seq)) return;
    std::string key = Key(job_id, options_key, seq);
    const size_t bytes = key.size() + CachedBytes(*value);
    absl::MutexLock lock(&mu_);
    auto gen = generations_.find(ToAbsl(job_id));
    if ((gen == generations_.end() ? 0 : gen->second) != generation) return;
    if (index_.contains(key)) return;
    lru_.push_front(Entry{key, std::string(job_id), std::move(value), bytes});
    index_.emplace(std::move(key), lru_.begin());
    bytes_ += bytes;
    while (!lru_.empty() && (lru_.size() > capacity_ || bytes_ > max_bytes_)) {
      bytes_ -= lru_.back().bytes;
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }
  // Drops every entry of the job (its data was purged) and moves it to a new
  // generation, so that entries built from before the purge are not kept.
  void Forget(std::string_view job_id) {
    absl::MutexLock lock(&mu_);
    ++generations_[ToAbsl(job_id)];
    for (auto it = lru_.begin(); it != lru_.end();) {
      if (it->job_id == job_id) {
        bytes_ -= it->bytes;
        index_.erase(it->key);
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  struct Entry {
    std::string key;
    std::string job_id;
    std::shared_ptr<const T> value;
    size_t bytes = 0;
  };
  static std::string Key(std::string_view job_id, std::string_view options_key,
                         uint64_t seq) {
    // Length-prefixed: unambiguous whatever the id holds.
    return absl::StrCat(job_id.size(), ":", ToAbsl(job_id), seq, ":",
                        ToAbsl(options_key));
  }

  const size_t capacity_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Jobs purged at least once (few): their generation.
  absl::flat_hash_map<std::string, uint64_t> generations_ ABSL_GUARDED_BY(mu_);
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  absl::flat_hash_map<std::string, typename std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
};

// A thousand viewers of one job: the first to wake builds the Delta from
// storage and the others copy it; a subscriber that finds a delta ending
// before the log's end takes it and is woken again for the rest, so
// followers fall in step with whoever built first.
using DeltaCache = SharedCache<SharedDelta>;
// Subscribers that need a new Snapshot at the same job_seq (they fell in
// step, and their appended points reached max_points together) share its
// curve, metrics and recent events; progress and stages, which tick with
// time, are projected afresh for each (JobSubscription).
using SnapshotCache = SharedCache<v1::JobSnapshot>;

// What every SubscribeJob stream of a service shares.
struct LiveCaches {
  DeltaCache deltas;
  SnapshotCache snapshots{64};
  // The job's data was purged: nothing built before may be reused.
  void Forget(std::string_view job_id) {
    deltas.Forget(job_id);
    snapshots.Forget(job_id);
  }
};

}  // namespace trainyard::metrics
