// Copyright 2026 Trainyard authors.
//
// The in-memory state of the series store (published versions, staged
// drafts), shared by its writer (series_writer.cc), reader
// (series_reader.cc) and loader (series_store.cc). Internal to series/.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/cache/job_cache.h"
#include "services/metrics/series/chunk_index.h"
#include "services/metrics/series/downsample.h"

namespace trainyard::metrics::series_internal {

inline Extremes ExtremesOf(absl::Span<const SeriesPoint> points) {
  Extremes e;
  for (const SeriesPoint& p : points) e.Add(p);
  return e;
}

inline bool ByStep(const SeriesPoint& a, const SeriesPoint& b) {
  return a.step < b.step;
}

struct Rewind {
  int32_t attempt = 0;
  int64_t from_step = 0;
  friend bool operator==(const Rewind&, const Rewind&) = default;
};

// True when `rewinds` roll back a point of `attempt` at `step`.
inline bool RolledBack(const std::vector<Rewind>& rewinds, int32_t attempt,
                       int64_t step) {
  for (const Rewind& r : rewinds) {
    if (r.attempt > attempt && step > r.from_step) return true;
  }
  return false;
}

// Effective points after the last chunk, not yet folded into a chunk.
struct Tail {
  std::vector<SeriesPoint> points;  // Sorted, unique steps.
  Extremes extremes;
  // The job's tail segments this series reads, ascending: the one with its
  // latest reset entry and every later one with an entry of it.
  std::vector<uint64_t> seqs;
};

// One version of a series. Immutable once shared.
struct SeriesState {
  explicit SeriesState(size_t group_size)
      : chunks(group_size), tail(std::make_shared<const Tail>()) {}

  ChunkIndex chunks;  // The effective curve before the tail.
  std::shared_ptr<const Tail> tail;
  std::map<int32_t, ChunkIndex> rolled_back;  // By attempt.
  uint64_t next_version = 1;
  // The staging order of this version (0: loaded): Publish never replaces a
  // version with an older one.
  uint64_t stage_seq = 0;

  int64_t count() const {
    return chunks.total_count() + static_cast<int64_t>(tail->points.size());
  }
  std::optional<SeriesPoint> last() const {
    if (!tail->points.empty()) return tail->points.back();
    if (!chunks.empty()) return chunks.back().last;
    return std::nullopt;
  }
  std::optional<int64_t> first_step() const {
    if (!chunks.empty()) return chunks.at(0).first_step;
    if (!tail->points.empty()) return tail->points.front().step;
    return std::nullopt;
  }
  int64_t rolled_back_count() const {
    int64_t n = 0;
    for (const auto& [attempt, run] : rolled_back) n += run.total_count();
    return n;
  }
  // Heap bytes, estimated (the series cache's charge).
  size_t MemoryBytes() const {
    size_t bytes = sizeof(SeriesState) + sizeof(Tail) +
                   tail->points.capacity() * sizeof(SeriesPoint) +
                   tail->seqs.capacity() * sizeof(uint64_t) +
                   ChunkIndexBytes(chunks);
    for (const auto& [attempt, run] : rolled_back) {
      bytes += 64 + ChunkIndexBytes(run);
    }
    return bytes;
  }
  static size_t ChunkIndexBytes(const ChunkIndex& index) {
    return index.size() * sizeof(ChunkMeta) + index.group_count() * 128;
  }
};

using SeriesMap =
    std::map<std::string, std::shared_ptr<const SeriesState>, std::less<>>;

// A chunk blob no longer referenced by the current state, kept (and recorded
// under a kKindRetired key) until no query can still read it.
struct Retired {
  uint64_t seq = 0;
  std::string chunk_key;
  // The first generation without the chunk: queries whose snapshot is of an
  // earlier generation may read it.
  uint64_t generation = 0;
};

// Everything staged for a job and not yet published or dropped, whichever
// SeriesUpdate it went into: a later Stage of the job (into the same batch)
// builds on it.
struct Pending {
  bool purge = false;  // Published state is to be dropped.
  SeriesMap series;    // Latest staged versions.
  std::optional<std::vector<Rewind>> rewinds;
  // Chunk blobs written (or retired: nullopt) but not in the Db yet.
  std::map<std::string, std::optional<std::string>, std::less<>> chunk_overlay;
  std::set<uint64_t> collected;  // Retired chunks already being deleted.
  std::optional<uint64_t> next_retired_seq;
  std::optional<uint64_t> next_tail_seq;
  int drafts = 0;  // Unsettled JobDrafts that contributed.
};

// The published state of one job.
struct JobState {
  std::atomic<bool> loaded{false};
  absl::Mutex load_mu;  // Serializes loading.

  absl::Mutex mu;
  SeriesMap series ABSL_GUARDED_BY(mu);
  std::vector<Rewind> rewinds ABSL_GUARDED_BY(mu);
  // Incremented by every Publish.
  uint64_t generation ABSL_GUARDED_BY(mu) = 0;
  // Queries in flight, by the generation of their snapshot.
  std::map<uint64_t, int> readers ABSL_GUARDED_BY(mu);
  std::vector<Retired> retired ABSL_GUARDED_BY(mu);
  uint64_t next_retired_seq ABSL_GUARDED_BY(mu) = 1;
  uint64_t next_tail_seq ABSL_GUARDED_BY(mu) = 1;

  // Writer side (the caller serializes writers of a job; the mutex is for
  // Publish and the destructor of a dropped SeriesUpdate).
  std::optional<Pending> pending ABSL_GUARDED_BY(mu);
  uint64_t next_stage_seq ABSL_GUARDED_BY(mu) = 1;
  uint64_t purge_seq ABSL_GUARDED_BY(mu) = 0;    // Of the last purge published.
  uint64_t rewinds_seq ABSL_GUARDED_BY(mu) = 0;  // Of `rewinds`.

  // Heap bytes of the published state, estimated (the cache's charge).
  size_t MemoryBytes() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    size_t bytes = rewinds.capacity() * sizeof(Rewind) +
                   retired.size() * (sizeof(Retired) + 64);
    // Per series: the map node, shared_ptr control blocks and malloc's
    // headers (measured: ~5.2 KB of heap for a job of 8 short series).
    for (const auto& [name, state] : series) {
      bytes += 224 + name.size() + state->MemoryBytes();
    }
    return bytes;
  }
};

// A job's state in the store's cache, pinned: not evicted while held.
using JobHandle = cache::JobCache<JobState>::Handle;

// What one SeriesUpdate changes for one job: the delta it publishes.
struct JobDraft {
  JobHandle job;       // pinned until the draft is published or dropped
  bool purge = false;  // All published state is dropped first.
  uint64_t purge_seq = 0;
  SeriesMap series;  // New versions of the touched series.
  std::optional<std::vector<Rewind>> rewinds;  // The whole list, if changed.
  uint64_t rewinds_seq = 0;
  // Chunks retired by this update (generation set by Publish), published
  // retired chunks it deletes (by seq), and the next retired seq.
  std::vector<Retired> retired;
  std::set<uint64_t> collected;
  std::optional<uint64_t> next_retired_seq;
  std::optional<uint64_t> next_tail_seq;
  bool settled = false;  // Published or dropped.
};

struct UpdateData {
  UpdateData() = default;
  UpdateData(const UpdateData&) = delete;
  UpdateData& operator=(const UpdateData&) = delete;
  // Dropping an update unpublished (its write failed or never happened)
  // discards the job's pending state: the other updates staged into the
  // same batch are dropped too.
  ~UpdateData() {
    for (auto& [job_id, draft] : jobs) {
      if (draft.settled) continue;
      absl::MutexLock lock(&draft.job->mu);
      draft.job->pending.reset();
    }
  }

  std::map<std::string, JobDraft, std::less<>> jobs;
};

}  // namespace trainyard::metrics::series_internal
