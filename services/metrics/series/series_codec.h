// -----------------------------------------------------------------------------
// File: services/metrics/series/series_codec.h
// -----------------------------------------------------------------------------
//
// Byte formats of the series data in RocksDB (keys: series_store.h). Compact
// binary rather than protobuf: blocks of points are decoded at every bucket
// edge of a curve query, and the per-point cost of protobuf (a tag and a
// length per field of a repeated message) would double both the size and
// the decode time. Integers are LEB128 varints; "zigzag" marks signed deltas;
// doubles are their 8 IEEE-754 bytes little-endian, so NaN payloads, +/-Inf
// and -0.0 round-trip bit for bit.
//
// Point block (value of a tail segment in `series_meta`):
//   u8      format = 1
//   varint  count (>= 1)
//   count x { varint step delta (the first point: the step itself; then the
//                                difference to the previous step, >= 1)
//             zigzag varint attempt delta (to the previous point's attempt;
//                                          the first point: to 0)
//             8 bytes value }
//   A typical point is 1 + 1 + 8 = 10 bytes.
//
// Chunk (value of a chunk in `series_chunks`): the points cut into blocks of
// `block_points` (32) points, each with its own extremes, so that a query
// whose bucket edge falls inside a chunk decodes one block, not the chunk
// (the finest of the three summary levels: block, chunk, group of chunks).
//   u8      format = 2
//   varint  count (>= 1), block_points (>= 1)
//   per block (ceil(count / block_points) of them; all hold block_points
//   points but the last):
//           varint first step (block 0: the step; then the difference to the
//                              previous block's first step, >= 1)
//           varint length in bytes of the block's point data
//           min:  varint step - first step, zigzag varint attempt, 8 bytes
//           max:  same
//   the blocks' point data, back to back: per point a varint step delta
//   (the first point: 0, it is the block's first step), a zigzag attempt
//   delta (the first: to 0) and 8 bytes value. ~10 bytes a point plus ~24
//   bytes of header per block.
//
// Chunk summary (value of an index entry in `series_meta`; the chunk's
// first_step is in the key):
//   u8      format = 1
//   varint  version, count, last_step - first_step
//   min:    varint step - first_step, zigzag varint attempt, 8 bytes value
//   max:    same
//   last:   zigzag varint attempt, 8 bytes value (its step is last_step)
//
// Decoders validate lengths and monotonicity and return kDataLoss (never
// crash) on bad bytes. Thread-safe: pure functions.

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "services/metrics/series/chunk_index.h"
#include "services/metrics/series/downsample.h"

namespace trainyard::metrics {

// Appends `points` as a point block. REQUIRES: non-empty, strictly
// increasing steps, steps >= 0.
void EncodePoints(absl::Span<const SeriesPoint> points, std::string* out);
std::string EncodePoints(absl::Span<const SeriesPoint> points);

// Appends the points of a point block or a chunk to `*out`. kDataLoss on
// malformed bytes.
absl::Status DecodePoints(std::string_view bytes,
                          std::vector<SeriesPoint>* out);

// A chunk of `points` in blocks of `block_points`. REQUIRES: as EncodePoints.
std::string EncodeChunk(absl::Span<const SeriesPoint> points, int block_points);

// The parsed header of a chunk: its blocks' first steps and extremes, and
// the undecoded point data of each. Does not own the bytes: they must
// outlive the view (and Parse must be called again if they move).
class ChunkView {
 public:
  // kDataLoss on a malformed header (point data is checked by Decode).
  absl::Status Parse(std::string_view bytes);

  int64_t count() const { return count_; }
  size_t blocks() const { return blocks_.size(); }
  // Block b holds steps in [first_step(b), first_step(b + 1)).
  int64_t first_step(size_t b) const { return blocks_[b].first_step; }
  // Count, min and max of block b.
  const Extremes& extremes(size_t b) const { return blocks_[b].extremes; }

  // Appends the points of block b (all of them) to *out.
  absl::Status Decode(size_t b, std::vector<SeriesPoint>* out) const;
  absl::Status DecodeAll(std::vector<SeriesPoint>* out) const;

 private:
  struct Block {
    int64_t first_step = 0;
    int64_t count = 0;
    Extremes extremes;
    uint64_t data_length = 0;
    std::string_view data;
  };
  absl::InlinedVector<Block, 8> blocks_;
  int64_t count_ = 0;
};

// A tail segment (series_store.h) holds, for each series a Stage touched,
// one entry: the series' new points, or with `reset` the series' whole tail
// (entries of the series in earlier segments no longer count).
struct TailEntry {
  std::string series;
  bool reset = false;
  std::vector<SeriesPoint> points;  // Strictly increasing steps; may be empty.
};
std::string EncodeTailSegment(absl::Span<const TailEntry> entries);
// kDataLoss on malformed bytes.
absl::Status DecodeTailSegment(std::string_view bytes,
                               std::vector<TailEntry>* entries);

// A chunk summary. `meta.first_step` is not encoded (it is in the key).
std::string EncodeChunkMeta(const ChunkMeta& meta);
absl::Status DecodeChunkMeta(int64_t first_step, std::string_view bytes,
                             ChunkMeta* meta);

}  // namespace trainyard::metrics
