// -----------------------------------------------------------------------------
// File: services/metrics/series/chunk_index.h
// -----------------------------------------------------------------------------
//
// The in-memory index of one run of chunks (a series' effective curve, or the
// rolled-back points of one attempt): per chunk its step extent, point count,
// extremes and last point, plus per group of chunks the merged extremes, so
// that the count and extremes of any range of chunks cost O(group size + range
// / group size) instead of O(range).
//
// A ChunkIndex is an immutable value: copies share their groups, and Replace()
// returns a new index that shares every group it did not touch. This is what
// lets SeriesStore publish a new version of a series with a pointer swap while
// queries keep reading the old one: appending a chunk to a 1M-point series
// copies one group (at most `group_size` metas) and the vector of group
// pointers, not the whole index.
//
// Thread-safe for concurrent reads (it is never modified after construction).

#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "services/metrics/series/downsample.h"

namespace trainyard::metrics {

// Summary of one stored chunk. Chunks of a run cover disjoint step extents
// and are ordered by first_step.
struct ChunkMeta {
  int64_t first_step = 0;
  int64_t last_step = 0;
  // Distinguishes successive contents of a chunk starting at the same step
  // (chunk blobs are immutable; a rewrite gets a new version, see
  // series_store.h).
  uint64_t version = 0;
  // Count, min and max of the chunk's points. extremes.count >= 1.
  Extremes extremes;
  // The point at last_step (for "last value" without reading the chunk).
  SeriesPoint last;

  friend bool operator==(const ChunkMeta&, const ChunkMeta&) = default;
};

// Builds the meta of a chunk holding `points` (sorted, non-empty).
ChunkMeta MakeChunkMeta(const std::vector<SeriesPoint>& points,
                        uint64_t version);

class ChunkIndex {
 public:
  // Groups of this many chunks carry merged extremes.
  static constexpr size_t kDefaultGroupSize = 64;

  // An empty index.
  explicit ChunkIndex(size_t group_size = kDefaultGroupSize);

  // An index of `metas` (sorted by first_step, disjoint extents).
  static ChunkIndex FromMetas(std::vector<ChunkMeta> metas,
                              size_t group_size = kDefaultGroupSize);

  size_t size() const { return offsets_.back(); }
  bool empty() const { return size() == 0; }

  // The i-th chunk in step order. REQUIRES: i < size(). O(log groups).
  const ChunkMeta& at(size_t i) const;
  const ChunkMeta& back() const { return at(size() - 1); }

  // Index of the first chunk whose last_step >= step; size() if none.
  size_t FirstEndingAtOrAfter(int64_t step) const;
  // Index of the first chunk whose first_step > step; size() if none.
  size_t FirstStartingAfter(int64_t step) const;

  // Merged extremes (and count) of chunks [begin, end).
  Extremes Aggregate(size_t begin, size_t end) const;

  // Points in all chunks.
  int64_t total_count() const { return total_count_; }

  // A copy with chunks [begin, end) replaced by `replacement` (which must
  // keep the order: every meta between the chunks before `begin` and those
  // from `end`). REQUIRES: begin <= end <= size().
  ChunkIndex Replace(size_t begin, size_t end,
                     std::vector<ChunkMeta> replacement) const;

  // All metas in order (tests, debugging).
  std::vector<ChunkMeta> ToVector() const;

  // Number of groups (tests).
  size_t group_count() const { return groups_.size(); }

 private:
  struct Group {
    std::vector<ChunkMeta> metas;
    Extremes extremes;
  };

  // The group holding chunk i. REQUIRES: i < size().
  size_t GroupOf(size_t i) const;
  void AppendGroups(std::vector<ChunkMeta> metas);
  void Finish();  // Recomputes offsets_ and total_count_.

  size_t group_size_;
  std::vector<std::shared_ptr<const Group>> groups_;
  // offsets_[g] is the index of group g's first chunk; offsets_.back() ==
  // size(). Never empty.
  std::vector<size_t> offsets_;
  int64_t total_count_ = 0;
};

}  // namespace trainyard::metrics
