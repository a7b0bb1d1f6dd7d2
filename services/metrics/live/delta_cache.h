// Copyright 2026 Trainyard authors.
//
// Deltas shared by the subscribers of a job (SubscribeJob fan-out). A Delta
// depends only on the job, the job_seq the subscriber stands at, and the
// options that shape it (DeltaOptionsKey); subscribers that agree on all
// three get the same message, built once: with a thousand viewers of one
// job, the first to wake builds the delta from storage and the others copy
// it. A subscriber that finds a delta ending before the log's end takes it
// and is woken again for the rest, so followers fall in step with whoever
// built first.
//
// A small LRU of immutable entries; thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
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

class DeltaCache {
 public:
  // Bounded by entries and by their serialized size.
  explicit DeltaCache(size_t capacity = 512,
                      size_t max_bytes = size_t{64} << 20)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The delta after `from_seq` for `options_key`, or null.
  std::shared_ptr<const SharedDelta> Find(std::string_view job_id,
                                          std::string_view options_key,
                                          uint64_t from_seq);
  // The job's generation: read it before reading the state a delta is built
  // from, and pass it to Put.
  uint64_t Generation(std::string_view job_id);
  // Keeps `delta` unless it holds nothing after from_seq, or the job was
  // purged (Forget) since `generation` was read.
  void Put(std::string_view job_id, std::string_view options_key,
           uint64_t from_seq, std::shared_ptr<const SharedDelta> delta,
           uint64_t generation);
  // Drops every entry of the job (its data was purged) and moves it to a new
  // generation, so that deltas built from before the purge are not kept.
  void Forget(std::string_view job_id);

 private:
  struct Entry {
    std::string key;
    std::string job_id;
    std::shared_ptr<const SharedDelta> delta;
    size_t bytes = 0;
  };
  static std::string Key(std::string_view job_id, std::string_view options_key,
                         uint64_t from_seq);

  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  const size_t max_bytes_;
  absl::Mutex mu_;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Jobs purged at least once (few): their generation.
  absl::flat_hash_map<std::string, uint64_t> generations_ ABSL_GUARDED_BY(mu_);
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // most recent first
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::metrics
